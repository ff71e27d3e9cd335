"""The analysis report on realistic training scripts (tests/codemods/scripts/), field by field."""

from pathlib import Path

import pytest

from codemods.analysis import analyze_script

SCRIPTS = Path(__file__).parent / "scripts"


@pytest.fixture(scope="module")
def reports():
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = analyze_script(SCRIPTS / name)
        return cache[name]

    return get


def _line(name, needle):
    """1-based line of the first line containing `needle` in a fixture (so tests don't hard-code numbers)."""
    for i, line in enumerate((SCRIPTS / name).read_text().splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError(f"{needle!r} not in {name}")


def test_mnist_cnn_prints_only_its_accuracy(reports):
    r = reports("mnist_main.py")
    assert r.model.architecture == "cnn"
    assert r.model.instances[0].variable == "model" and r.model.instances[0].local_class == "Net"
    assert r.model.instances[0].line == _line("mnist_main.py", "model = Net()")
    assert {"Conv2d", "Linear"} <= set(r.model.layer_kinds)
    assert r.model.recommended_config.module_names_to_perforate == ["Conv2d", "Linear"]
    assert r.optimizers[0].type == "torch.optim.Adadelta" and r.optimizers[0].variable == "optimizer"
    assert "lr=args.lr" in r.optimizers[0].arguments
    assert r.schedulers[0].type == "torch.optim.lr_scheduler.StepLR"
    assert [s.line for s in r.scheduler_steps] == [_line("mnist_main.py", "scheduler.step()")]
    assert r.optimizer_setup.kind == "simple"
    loop = r.epoch_loop
    assert (loop.kind, loop.variable, loop.bound) == ("for-range", "epoch", "args.epochs + 1")
    assert loop.line == _line("mnist_main.py", "for epoch in range")
    assert [c.detail for c in loop.train_calls] == ["train"]
    v = r.validation
    assert v.function == "test" and v.metric_only_printed and not v.metric_returned
    assert v.metric.lower() == "accuracy" and v.direction == "maximize"
    assert r.test_set.present
    assert r.parallelism.kind == "none" and r.training_library.kind == "plain"
    assert r.integration.level == "none" and r.integration.generation == "none"
    assert any("only prints" in n for n in r.notes)


def test_word_language_model_follows_the_local_model_module(reports):
    r = reports("word_language_model/main.py")
    assert "model.py" in r.local_files
    assert r.model.architecture == "rnn"
    cls = next(c for c in r.model.classes if c.name == "RNNModel")
    assert cls.file == "model.py" and {"LSTM", "Embedding", "Linear"} <= {layer.kind for layer in cls.layers}
    assert r.model.instances[0].variable == "model" and r.model.instances[0].local_class == "RNNModel"
    config = r.model.recommended_config
    assert config.output_dimensions == [-1, -1, 0]
    assert "LSTM" in [p.module_name for p in config.processors]
    assert (
        "GPA.pc.append_module_by_name_processing_classes([LPA.LSTMProcessor, LPA.LSTMProcessor])"
        in config.config_lines()
    )
    assert not r.optimizers and r.optimizer_setup.kind == "none"  # manual SGD update, like the original
    assert (r.validation.metric, r.validation.direction) == ("val_loss", "minimize")
    assert any(
        "comparison" in e.detail and e.line == _line("word_language_model/main.py", "val_loss < best")
        for e in r.validation.evidence
    )
    roles = {k.dest: k.role for k in r.size_knobs}
    assert roles["nhid"] == "width" and roles["nlayers"] == "depth" and roles["dropout"] == "dropout"


def test_imagenet_resnet_with_dataparallel_and_ddp(reports):
    r = reports("imagenet_main.py")
    assert r.model.architecture == "resnet"
    assert r.model.known_architectures[0].name == "resnet18"  # models.__dict__[args.arch], default of --arch
    assert r.model.recommended_config.module_ids_to_track == [".conv1", ".bn1"]
    assert "BasicBlock" in r.model.recommended_config.module_names_to_perforate
    p = r.parallelism
    assert (
        p.kind == "DistributedDataParallel" and "DataParallel" in p.kinds and "torch.distributed" in p.kinds
    )
    assert not p.hard_coded and "--world-size" in p.flag and "--multiprocessing-distributed" in p.flag
    assert {"WORLD_SIZE", "RANK"} <= set(p.env_vars)
    assert r.optimizers[0].type == "torch.optim.SGD" and "momentum=args.momentum" in r.optimizers[0].arguments
    assert [s.line for s in r.scheduler_steps] == [_line("imagenet_main.py", "scheduler.step()")]
    assert r.epoch_loop.bound == "args.epochs" and r.epoch_loop.line == _line(
        "imagenet_main.py", "for epoch in"
    )
    assert (r.validation.function, r.validation.metric, r.validation.direction) == (
        "validate",
        "acc1",
        "maximize",
    )
    assert r.validation.metric_returned and r.validation.returns == "top1.avg"
    assert any(k.dest == "arch" and k.role == "architecture" for k in r.size_knobs)


def test_cifar_resnet_from_a_local_models_package(reports):
    r = reports("cifar_resnet/main.py")
    assert "models/resnet.py" in r.local_files
    assert r.model.architecture == "resnet"
    assert r.model.instances[0].variable == "net" and r.model.instances[0].local_class == "ResNet"
    assert r.model.recommended_config.module_names_to_perforate == ["BasicBlock", "Linear"]
    assert r.parallelism.kind == "DataParallel" and r.parallelism.condition == "device == 'cuda'"
    assert (r.validation.metric, r.validation.direction) == ("acc", "maximize")
    assert not r.validation.metric_returned


def test_transformer_classifier_alias_optimizer_and_2d_head(reports):
    r = reports("transformer_classifier.py")
    assert r.model.architecture == "transformer"
    config = r.model.recommended_config
    assert config.output_dimensions == [-1, -1, 0]
    assert config.override_lines("model") == ["model.classifier.set_this_output_dimensions([-1, 0])"]
    assert r.optimizers[0].type == "torch.optim.AdamW"  # `from torch import optim as O; O.AdamW`
    assert r.schedulers[0].type == "torch.optim.lr_scheduler.OneCycleLR"
    assert r.scheduler_steps[0].function == "train_epoch"
    assert r.optimizer_setup.kind == "complex" and "per batch" in r.optimizer_setup.reason
    assert (r.validation.metric, r.validation.direction) == ("val_acc", "maximize")
    assert r.early_stopping.present and r.test_set.present
    roles = {k.dest: k.role for k in r.size_knobs}
    assert roles == {"d_model": "width", "nhead": "heads", "num_layers": "depth", "dropout": "dropout"}


def test_hf_run_glue_trainer(reports):
    r = reports("hf_run_glue.py")
    assert r.training_library.kind == "huggingface_trainer" and r.training_library.trainer_class == "Trainer"
    assert r.model.architecture == "transformer"
    assert r.model.known_architectures[0].name == "bert-base-cased"  # dataclass field default
    assert r.optimizer_setup.kind == "framework" and r.epoch_loop.kind == "framework"
    assert [s.name for s in r.integration.steps] == [
        "imports",
        "config",
        "perforate_model",
        "library_validation_score",
        "trainer_using_perforatedai",
    ]


def test_hf_trainer_subclass(reports):
    r = reports("hf_trainer_subclass.py")
    assert r.training_library.kind == "huggingface_trainer"
    assert r.training_library.trainer_subclasses == ["WeightedLossTrainer"]
    assert (r.validation.metric, r.validation.direction) == ("f1", "maximize")
    assert r.early_stopping.present


def test_lightning_module_and_trainer(reports):
    r = reports("lightning_mnist.py")
    assert r.training_library.kind == "lightning"
    assert r.model.classes[0].is_lightning_module and r.model.architecture == "mlp"
    assert r.optimizer_setup.kind == "complex" and "configure_optimizers" in r.optimizer_setup.reason
    assert (r.validation.metric, r.validation.direction) == ("val_loss", "minimize")
    assert r.early_stopping.present and r.parallelism.kind == "none"


def test_regression_minimizes_mse(reports):
    r = reports("regression_mse.py")
    assert r.model.architecture == "mlp" and r.model.instances[0].variable == "model"
    assert r.optimizers[0].type == "torch.optim.Adam"
    assert (r.validation.metric, r.validation.direction) == ("mse", "minimize")
    assert r.epoch_loop.bound == "EPOCHS"
    assert any(k.dest == "hidden_size" and k.source == "constant" for k in r.size_knobs)


def test_partial_upstream_integration(reports):
    r = reports("pai_partial_upstream.py")
    ig = r.integration
    assert (ig.package, ig.generation, ig.level, ig.capacity_flag) == (
        "perforatedai",
        "current",
        "partial",
        "True",
    )
    assert ig.missing == [
        "optimizer_registration",
        "add_validation_score",
        "restructure_optimizer_rebuild",
        "training_complete_break",
    ]
    assert ig.perforate_call.save_name == '"digits_dendritic"'
    assert ig.step("model_to_device_after_restructure").status == "not_applicable"


def test_complete_upstream_integration(reports):
    r = reports("pai_complete_upstream.py")
    ig = r.integration
    assert (ig.level, ig.generation, ig.capacity_flag, ig.missing) == ("complete", "current", "False", [])
    lines = (SCRIPTS / "pai_complete_upstream.py").read_text().splitlines()
    rebuild = [i for i, text in enumerate(lines, 1) if "= GPA.pai_tracker.setup_optimizer(" in text]
    assert (
        ig.step("restructure_optimizer_rebuild").lines == rebuild[1:]
    )  # the call inside `elif restructured:`
    assert ig.step("optimizer_registration").lines == rebuild
    assert r.epoch_loop.kind == "while" and r.validation.metric == "val_acc"
    assert r.optimizers[0].type == "torch.optim.SGD" and "momentum=0.9" in r.optimizers[0].arguments
    assert not ig.warnings


def test_pai_core_integration_missing_the_rebuild(reports):
    r = reports("pai_core_integrated.py")
    ig = r.integration
    assert (ig.package, ig.level) == ("pai_core", "partial")
    assert ig.missing == ["restructure_optimizer_rebuild"]
    assert "does not rebuild" in ig.step("restructure_optimizer_rebuild").detail
    assert any("maximizing_score=False" in w for w in ig.warnings)  # val_loss with the default True


def test_pb_era_integration(reports):
    r = reports("pb_era_mnist.py")
    ig = r.integration
    assert (ig.generation, ig.level, ig.capacity_flag) == ("pb", "complete", "False")
    assert ig.perforate_call.function == "initializePB"
    assert ig.aliases == {"PBG": "globals", "PBM": "library", "PBU": "utils"}


@pytest.mark.parametrize("script,dims", [
    ("c_gcn_dense_inline.py", [-1, 0, -1, -1]),  # one full graph: node features (nodes, features), trimmed
    ("l_gcn_full_batch.py", [-1, 0, -1, -1]),
    ("p_factory_get_model/train.py", [-1, -1, 0]),  # a batch of graphs read out by h.mean(dim=1): 3-D
])
def test_dense_adjacency_graph_layers_are_3d_only_for_a_batch_of_graphs(script, dims):
    config = analyze_script(SCRIPTS.parent / "corpus" / script).model.recommended_config
    assert config.output_dimensions == dims


def test_a_layer_whose_output_forward_unpacks_into_three_axes_gets_3d_dimensions():
    # logits = self.lm_head(self.token_embedding_table(idx)); B, T, C = logits.shape
    config = analyze_script(SCRIPTS.parent / "corpus" / "l_bigram_eval_interval.py").model.recommended_config
    assert config.output_dimensions == [-1, 0, -1, -1]
    assert config.override_lines("model") == ["model.lm_head.set_this_output_dimensions([-1, -1, 0])"]
    two_d = analyze_script(SCRIPTS.parent / "corpus" / "l_configure_optimizers.py").model.recommended_config
    assert two_d.output_dimension_overrides == []  # fc(ln(embed(idx))) on (batch,) tokens: no unpack, no override


def test_a_model_of_recurrent_cells_only_is_2d():
    config = analyze_script(SCRIPTS.parent / "corpus" / "l_steps_lbfgs.py").model.recommended_config
    assert config.module_names_to_perforate == ["Linear", "LSTMCell"]
    assert config.output_dimensions == [-1, 0]  # h, c = self.lstm1(x_t, (h, c)); self.linear(h)
