"""PAI005 on the loop shapes of the corpus: what reaches add_validation_score and how the loop now ends."""

from __future__ import annotations

from pathlib import Path

from codemods.analysis import analyze_script, analyze_source
from codemods.perforate import perforate_file

CORPUS = Path(__file__).parent / "corpus"


def rewrite(slug: str) -> str:
    result = perforate_file(CORPUS / f"{slug}.py")
    assert not result.refused and "PAI005" in result.applied, result.findings
    compile(result.new_source, slug, "exec")
    return result.new_source


def test_estimate_loss_dict_passes_its_validation_entry_inside_the_eval_interval_block():
    new = rewrite("l_nanogpt_while_true")
    hookup = "        model, restructured, training_complete = GPA.pai_tracker.add_validation_score(losses['val'], model)"
    assert hookup in new.splitlines()  # indented under `if iter_num % eval_interval == 0:`


def test_a_while_loop_bounded_by_its_counter_runs_until_training_complete():
    new = rewrite("l_while_epoch_lt_max")
    assert "    while True:\n" in new and "while epoch < args.max_epochs" not in new


def test_an_alias_of_the_model_is_repointed_after_a_restructure():
    new = rewrite("l_bigram_eval_interval")
    branch = new.split("elif restructured:", 1)[1].split("\n\n", 1)[0]
    assert "m = model" in branch  # before the optimizer is rebuilt from m.parameters(), so it holds the new model's
    assert branch.index("m = model") < branch.index("setup_optimizer(m,")


def test_a_trainer_method_loop_feeds_self_model_and_rebuilds_with_self_attributes():
    new = rewrite("l_user_trainer_fit")
    assert "self.model, restructured, training_complete = GPA.pai_tracker.add_validation_score(val_loss, " \
           "self.model)" in new
    assert "lr=self.config.lr" in new.split("elif restructured:", 1)[1]


def test_unreturned_metric_is_returned_with_the_printed_value():
    new = rewrite("l_logger_only_mae")
    assert "    return val_mae\n" in new


def test_indirect_and_manual_optimizer_facts():
    method = analyze_script(CORPUS / "l_configure_optimizers.py").optimizers
    assert [(o.variable, o.built_by) for o in method] == [("optimizer", "model_method")]
    config = analyze_script(CORPUS / "l_yaml_config" / "train.py")
    assert [(o.variable, o.built_by) for o in config.optimizers + config.schedulers] == [
        ("optimizer", "config"), ("scheduler", "config")]
    manual = [s for s in analyze_script(CORPUS / "l_word_lm_manual_lr.py").schedulers if s.built_by == "manual"]
    assert len(manual) == 1 and "param_groups" in manual[0].text


def test_framework_templates_are_reported_as_their_library():
    assert analyze_script(CORPUS / "l_hf_trainer_subclass.py").training_library.kind == "huggingface_trainer"
    assert analyze_script(CORPUS / "l_lightning_template" / "train.py").training_library.kind == "lightning"


def test_refusals_ask_the_question():
    for slug, question in (("l_dcgan_losses_only.py", "Which value should add_validation_score receive"),
                           ("l_unknown_direction.py", "is a higher quality better"),
                           ("l_delegated_target/train.py", "Which file runs the epoch loop?")):
        result = perforate_file(CORPUS / slug)
        assert result.refused and not result.changed
        assert any(question in f.message for f in result.errors), result.findings


LOGGED = '''
import torch
import torch.nn as nn
{imports}


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(x)


def validate(model, loader, epoch):
    model.eval()
    with torch.no_grad():
{body}


def main():
    model = Net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loader = [(torch.randn(8, 4), torch.randint(0, 2, (8,)))]
    for epoch in range(3):
        for x, y in loader:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
        validate(model, loader, epoch)
'''


def test_metrics_only_logged_are_returned_for_the_tracker():
    from codemods.perforate import perforate_source

    cases = {
        "writer.add_scalar": ("from torch.utils.tensorboard import SummaryWriter\nwriter = SummaryWriter()",
                              "        val_acc = sum((model(x).argmax(1) == y).float().mean().item() for x, y in loader)\n"
                              "    writer.add_scalar('val/acc', val_acc, epoch)", "val_acc", "maximize"),
        "wandb.log": ("import wandb",
                      "        val_loss = sum(nn.functional.cross_entropy(model(x), y).item() for x, y in loader)\n"
                      "    wandb.log({'val_loss': val_loss, 'epoch': epoch})", "val_loss", "minimize"),
    }
    for imports, body, metric, direction in cases.values():
        script = LOGGED.format(imports=imports, body=body)
        report = analyze_source(script)
        assert (report.validation.metric, report.validation.direction) == (metric, direction)
        result = perforate_source(script, filename="t.py")
        assert f"    return {metric}\n" in result.new_source, result.findings


def test_a_metric_object_gives_the_direction_of_an_unnamed_metric():
    body = ("        metric = evaluate.load('accuracy')\n"
            "        for x, y in loader:\n"
            "            metric.add_batch(predictions=model(x).argmax(1), references=y)\n"
            "        result = metric.compute()\n"
            "    return result")
    report = analyze_source(LOGGED.format(imports="import evaluate", body=body).replace(
        "        validate(model, loader, epoch)", "        result = validate(model, loader, epoch)"))
    assert (report.validation.metric, report.validation.direction) == ("result", "maximize")
