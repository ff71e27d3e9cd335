"""PAI005 on the loop shapes of the corpus: what reaches add_validation_score and how the loop now ends."""

from __future__ import annotations

from pathlib import Path

from codemods.analysis import analyze_script
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
    assert "m = model" in branch


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
        assert any(question in f.message for f in result.skips), result.findings
