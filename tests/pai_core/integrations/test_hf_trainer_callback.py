"""The PAITrainerCallback with the real, unmodified transformers Trainer on CPU: tiny models, real data, no
downloads. Each run goes through restructures to completion and proves the new dendrites are trained."""
from __future__ import annotations

import json
import os

import pytest
import torch

pytest.importorskip("transformers")
pytest.importorskip("accelerate")
os.environ["HF_HUB_OFFLINE"] = "1"

from framework_support import DATA, DendriteProbe, DigitsNet, DigitsSet
from transformers import Trainer, TrainerCallback, TrainingArguments

from pai_core.integrations import _common
from pai_core.integrations._common import IntegrationError
from pai_core.integrations.huggingface import PAITrainerCallback
from pai_core.modules import neuron_modules

torch.set_num_threads(1)


class ProbeCallback(TrainerCallback):
    def __init__(self):
        self.probe = DendriteProbe()
        self.learning_rates: list[float] = []

    def on_epoch_begin(self, args, state, control, model=None, optimizer=None, **kwargs):
        self.probe.epoch_begins(model)
        self.learning_rates.append(optimizer.param_groups[0]["lr"])

    def on_epoch_end(self, args, state, control, model=None, **kwargs):
        self.probe.epoch_ends(model)


def accuracy(prediction) -> dict:
    return {"accuracy": float((prediction.predictions.argmax(-1) == prediction.label_ids).mean())}


def digits_args(tmp_path, **overrides) -> TrainingArguments:
    options = {"output_dir": str(tmp_path / "hf_out"), "num_train_epochs": 30, "per_device_train_batch_size": 64,
               "eval_strategy": "epoch", "save_strategy": "no", "report_to": [], "learning_rate": 1e-2,
               "use_cpu": True, "disable_tqdm": True, "logging_strategy": "no", "metric_for_best_model": "accuracy"}
    options.update(overrides)
    return TrainingArguments(**options)


def digits_trainer(tmp_path, callbacks, **overrides) -> Trainer:
    torch.manual_seed(0)
    return Trainer(model=DigitsNet(), args=digits_args(tmp_path, **overrides),
                   train_dataset=DigitsSet(DATA.x_train, DATA.y_train), eval_dataset=DigitsSet(DATA.x_val, DATA.y_val),
                   compute_metrics=accuracy, callbacks=callbacks)


def pai_callback(save_name: str, **options) -> PAITrainerCallback:
    return PAITrainerCallback(save_name=save_name, module_names_to_perforate=["Linear"], output_dimensions=[-1, 0],
                              **options)


def test_trainer_grows_trains_and_stops_with_dendrites(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    pai, probe = pai_callback("hf_digits"), ProbeCallback()
    trainer = digits_trainer(tmp_path, [pai, probe])
    model = trainer.model
    assert [m.name for m in neuron_modules(model)] == [".fc1", ".fc2"]  # perforated in place at Trainer init
    trainer.train()

    tracker = pai.tracker
    assert tracker.state.completed and tracker.state.completion_reason == "capacity_test_passed"
    assert tracker.state.maximizing_score is True  # metric_for_best_model="accuracy", greater_is_better
    assert trainer.state.epoch < 30  # stopped by the callback, not by num_train_epochs
    assert trainer.model is model and all(m.num_dendrites == 3 for m in neuron_modules(model))
    assert probe.probe.checked_epochs >= 3 and probe.probe.unchanged == []  # every new dendrite trained
    assert probe.learning_rates == pytest.approx([1e-2] * 4)  # the linear schedule restarts with each dendrite
    history = [h["eval_accuracy"] for h in trainer.state.log_history if "eval_accuracy" in h]
    assert tracker.state.accuracies == pytest.approx(history[-len(tracker.state.accuracies):])
    summary = json.loads((tmp_path / "hf_digits" / "pai_run.json").read_text())
    assert summary["dendrites"] == 3 and summary["status"] == "complete"


def test_probe_detects_dendrites_the_optimizer_does_not_train(tmp_path, monkeypatch):
    """Negative control: without the optimizer refresh the new dendrites stay untouched; the probe says so and
    the tracker refuses the next score."""
    from pai_core.errors import OptimizerNotRebuiltError

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("pai_core.integrations.huggingface.refresh_optimizer",
                        lambda optimizer, model, known: _common.groups_by_name(optimizer, model))
    pai, probe = pai_callback("hf_untrained"), ProbeCallback()
    with pytest.raises(OptimizerNotRebuiltError, match="did not change"):
        digits_trainer(tmp_path, [pai, probe]).train()
    assert probe.probe.checked_epochs >= 1
    assert any(name.endswith("dendrites_to_top") for name in probe.probe.unchanged)


def test_tiny_bert_minimizes_eval_loss_through_restructures(tmp_path, monkeypatch):
    from transformers import BertConfig, BertForSequenceClassification

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")

    class Tokens(torch.utils.data.Dataset):
        def __init__(self, n: int, seed: int):
            generator = torch.Generator().manual_seed(seed)
            self.ids = torch.randint(5, 50, (n, 8), generator=generator)
            self.labels = (self.ids < 20).sum(1).gt(2).long()

        def __len__(self):
            return len(self.ids)

        def __getitem__(self, i):
            return {"input_ids": self.ids[i], "labels": self.labels[i]}

    torch.manual_seed(0)
    model = BertForSequenceClassification(BertConfig(
        vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
        max_position_embeddings=16, num_labels=2))
    # the sequence template as the codemod writes it; the 2-D pooler and classifier outputs get [-1, 0] by themselves
    pai = PAITrainerCallback(save_name="hf_bert", output_dimensions=[-1, -1, 0], unwrapped_params_action="ignore")
    probe = ProbeCallback()
    args = TrainingArguments(output_dir=str(tmp_path / "out"), num_train_epochs=20, per_device_train_batch_size=32,
                             eval_strategy="epoch", save_strategy="no", report_to=[], learning_rate=5e-3,
                             use_cpu=True, disable_tqdm=True, logging_strategy="no")
    trainer = Trainer(model=model, args=args, train_dataset=Tokens(256, 0), eval_dataset=Tokens(64, 1),
                      callbacks=[pai, probe])
    trainer.train()
    assert pai.tracker.state.maximizing_score is False  # eval_loss by default: minimized
    assert pai.tracker.state.completed and len(pai.tracker.state.switch_epochs) == 3
    assert len(neuron_modules(model)) == 8 and probe.probe.unchanged == [] and probe.probe.checked_epochs >= 3
    assert model.classifier.output_dimensions == [-1, 0] and model.classifier.dendrites_to_top.shape == (3, 2)


def test_no_evaluation_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    trainer = digits_trainer(tmp_path, [pai_callback("hf_noeval")], eval_strategy="no",
                             metric_for_best_model=None)
    with pytest.raises(IntegrationError, match="eval_strategy='epoch'"):
        trainer.train()


def test_unknown_metric_names_the_available_ones(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    trainer = digits_trainer(tmp_path, [PAITrainerCallback(save_name="hf_metric", metric="f1",
                                                           module_names_to_perforate=["Linear"],
                                                           output_dimensions=[-1, 0])])
    with pytest.raises(IntegrationError, match=r"'eval_f1'.*eval_accuracy"):
        trainer.train()


def test_evaluate_after_training_is_not_an_epoch_and_extra_scores_are_forwarded(tmp_path, monkeypatch, caplog):
    monkeypatch.chdir(tmp_path)
    pai = pai_callback("hf_after", n_epochs_to_switch=100, library_extra_scores=["eval_loss", "eval_f1"],
                       library_extra_scores_without_graphing=["eval_runtime"])
    trainer = digits_trainer(tmp_path, [pai], num_train_epochs=2)
    trainer.train()
    epochs = len(pai.tracker.state.accuracies)
    trainer.evaluate()
    state = pai.tracker.state
    assert epochs == 2 and len(state.accuracies) == 2
    losses = [h["eval_loss"] for h in trainer.state.log_history if "eval_loss" in h][:2]
    assert state.extra_scores == {"eval_loss": pytest.approx(losses)}
    assert len(state.extra_scores_without_graphing["eval_runtime"]) == 2
    assert sum("'eval_f1'" in r.getMessage() for r in caplog.records) == 1  # said once, not every epoch


def test_upstream_library_validation_score_names_the_metric(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pai = pai_callback("hf_library", library_validation_score="eval_loss", n_epochs_to_switch=100)
    trainer = digits_trainer(tmp_path, [pai], num_train_epochs=1)  # metric_for_best_model="accuracy" too
    trainer.train()
    assert pai.tracker.state.maximizing_score is False
    assert pai.tracker.state.accuracies == [pytest.approx(trainer.state.log_history[0]["eval_loss"])]


def test_options_must_name_real_settings():
    from pai_core.errors import UnknownOptionError

    with pytest.raises(UnknownOptionError, match="output_dimensions"):
        PAITrainerCallback(output_dimension=[-1, 0])
    with pytest.raises(TypeError, match="PAIConfig"):
        PAITrainerCallback(config={"output_dimensions": [-1, 0]})


def test_a_killed_training_resumes_with_its_dendrites_trained(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = pai_callback("hf_resume")
    digits_trainer(tmp_path, [first], num_train_epochs=2).train()  # stands in for a run killed early
    assert first.tracker.state.num_dendrites_added == 2 and not first.tracker.state.completed

    second, probe = pai_callback("hf_resume", resume=True), ProbeCallback()
    trainer = digits_trainer(tmp_path, [second, probe])
    assert all(m.num_dendrites == 2 for m in neuron_modules(trainer.model))  # loaded before the optimizer exists
    trainer.train()
    assert second.tracker.state.completed and second.tracker.state.num_dendrites_added == 3
    assert probe.probe.checked_epochs >= 2 and probe.probe.unchanged == []
    assert len(second.tracker.state.accuracies) == 4


def test_a_real_run_switches_on_plateaus_and_ends_with_the_best_model(tmp_path, monkeypatch):
    """Capacity test off: dendrites come when the score plateaus, the tracker rewinds to the best epoch, and the
    Trainer stops with the best weights loaded."""
    monkeypatch.chdir(tmp_path)
    pai = pai_callback("hf_real", testing_dendrite_capacity=False, n_epochs_to_switch=2, max_dendrites=2,
                       improvement_threshold=0.01)
    probe = ProbeCallback()
    trainer = digits_trainer(tmp_path, [pai, probe], num_train_epochs=60, learning_rate=3e-3)
    trainer.train()
    state = pai.tracker.state
    assert state.completed and state.completion_reason == "max_dendrites"
    assert len(state.switch_epochs) == 2 and state.overwritten_epochs > 0
    assert trainer.state.epoch < 60 and probe.probe.unchanged == []
    best = pai.tracker.summary()["best_validation_score"]
    assert trainer.evaluate()["eval_accuracy"] == pytest.approx(best)


def test_tiny_gpt2_with_a_tied_head_saves_hf_checkpoints(tmp_path, monkeypatch):
    """GPT-2's lm_head shares its weight with the token embedding: it stays unwrapped (the Trainer's
    save_pretrained rejects a renamed shared tensor), the transformers Conv1D layers grow dendrites."""
    from transformers import GPT2Config, GPT2LMHeadModel

    monkeypatch.chdir(tmp_path)

    class Tokens(torch.utils.data.Dataset):
        def __init__(self, n: int, seed: int):
            self.ids = torch.randint(0, 50, (n, 12), generator=torch.Generator().manual_seed(seed))

        def __len__(self):
            return len(self.ids)

        def __getitem__(self, i):
            return {"input_ids": self.ids[i], "labels": self.ids[i]}

    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=50, n_embd=16, n_layer=1, n_head=2, n_positions=16))
    pai = PAITrainerCallback(save_name="hf_gpt2", output_dimensions=[-1, -1, 0], unwrapped_params_action="ignore",
                             module_names_to_perforate=["Linear", "Conv1D"])
    args = TrainingArguments(output_dir=str(tmp_path / "out"), num_train_epochs=10, per_device_train_batch_size=32,
                             eval_strategy="epoch", save_strategy="epoch", report_to=[], learning_rate=5e-3,
                             use_cpu=True, disable_tqdm=True, logging_strategy="no")
    trainer = Trainer(model=model, args=args, train_dataset=Tokens(128, 0), eval_dataset=Tokens(32, 1),
                      callbacks=[pai])
    assert [m.name for m in neuron_modules(model)] == [
        ".transformer.h.0.attn.c_attn", ".transformer.h.0.attn.c_proj", ".transformer.h.0.mlp.c_fc",
        ".transformer.h.0.mlp.c_proj"]
    trainer.train()
    assert pai.tracker.state.completed and model.lm_head.weight is model.transformer.wte.weight
    saved = sorted(int(p.name.split("-")[1]) for p in (tmp_path / "out").glob("checkpoint-*"))
    assert saved == [4, 8, 12, 16]  # one checkpoint per epoch, each with another number of dendrites
