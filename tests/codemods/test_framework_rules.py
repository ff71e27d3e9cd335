"""PAI010 (HF Trainer) and PAI011 (Lightning): what the analysis reads from framework scripts, how the callback
is merged into the Trainer call, and real digits scripts that are rewritten, then trained with dendrites."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from codemods.analysis import analyze_source
from codemods.perforate import perforate_file, perforate_source

FIXTURES = Path(__file__).parent / "fixtures"
SCRIPTS = Path(__file__).parent / "framework_scripts"
ROOT = Path(__file__).resolve().parents[2]


def fixture(case: str) -> str:
    return (FIXTURES / f"{case}.in.py").read_text()


def test_analysis_reads_the_training_arguments_and_the_trainer_call():
    info = analyze_source(fixture("hf_trainer_subclass"), filename="t.py").training_library
    assert (info.kind, info.trainer_class, info.trainer_call) == ("huggingface_trainer", "WeightedLossTrainer",
                                                                  "WeightedLossTrainer")
    assert (info.metric_for_best_model, info.greater_is_better) == ('"f1"', "True")
    assert info.eval_strategy is None and info.load_best_model_at_end == "True"
    assert info.callbacks == "[EarlyStoppingCallback(early_stopping_patience=2)]"
    assert info.trainer_line == 32 and info.arguments_line == 24 and info.sharding is None


def test_analysis_reads_the_monitor_of_model_checkpoint_first():
    info = analyze_source(fixture("lightning_checkpoint"), filename="t.py").training_library
    assert info.kind == "lightning" and info.trainer_call == "pl.Trainer"
    assert (info.monitor, info.mode, info.monitor_source) == ('"val_acc"', '"max"', "ModelCheckpoint")
    assert info.pai_callback is None
    rewritten = (FIXTURES / "lightning_checkpoint.out.py").read_text()
    assert analyze_source(rewritten, filename="t.py").training_library.pai_callback == "PAILightningCallback"


def test_sharded_training_is_refused_with_the_reason():
    for case, setting in (("hf_trainer_refusal", "deepspeed="), ("lightning_refusal", 'strategy="fsdp"')):
        result = perforate_source(fixture(case), filename=f"{case}.py")
        assert result.refused and not result.changed
        assert any(f.code == "PAI008" and setting in f.message for f in result.findings)


@pytest.mark.parametrize(("call", "expected"), [
    ("Trainer(model=model, args=args)", "Trainer(model=model, args=args, callbacks=[PAITrainerCallback("),
    ("Trainer(model=model, callbacks=None)", "Trainer(model=model, callbacks=[PAITrainerCallback("),
    ("Trainer(model=model, callbacks=[])", "Trainer(model=model, callbacks=[PAITrainerCallback("),
    ("Trainer(model, args, callbacks=extra)", "Trainer(model, args, callbacks=[*extra, PAITrainerCallback("),
    ("Trainer(\n    model=model\n)", "Trainer(\n    model=model, callbacks=[PAITrainerCallback(save_name=\"t_dendritic\")]\n)"),
])
def test_callback_is_merged_into_the_trainer_call(call, expected):
    source = ("from transformers import Trainer, TrainingArguments\n"
              "args = TrainingArguments(output_dir='o', eval_strategy='epoch', metric_for_best_model='accuracy')\n"
              f"trainer = {call}\ntrainer.train()\n")
    result = perforate_source(source, filename="t.py")
    assert result.applied == ["PAI010"] and expected in result.new_source
    compile(result.new_source, "t.py", "exec")
    assert not perforate_source(result.new_source, filename="t.py").changed


@pytest.mark.parametrize(("trainer", "metric", "removed", "metric_note"), [
    ("Trainer(model=model, args=args)", "", False, True),
    ("Trainer(model=model, args=args, using_perforatedai=True)", "", True, True),
    ("Trainer(model=model, args=args)", ", metric_for_best_model='f1'", False, False),
    ("Trainer(model=model, args=args)", "", False, False),  # named by set_library_validation_score
])
def test_trainer_notes_say_only_what_the_script_has(trainer, metric, removed, metric_note):
    """The analysis lists every Trainer step, a missing one too: a note follows what the script holds."""
    setting = "" if metric or metric_note else "GPA.pc.set_library_validation_score('eval_f1')\n"
    source = ("from transformers import Trainer, TrainingArguments\n"
              "from pai_core import globals_perforatedai as GPA\n" + setting +
              f"args = TrainingArguments(output_dir='o', eval_strategy='epoch'{metric})\n"
              f"trainer = {trainer}\ntrainer.train()\n")
    result = perforate_source(source, filename="t.py")
    notes = [f.message for f in result.findings if f.code == "PAI010"]
    assert "PAI010" in result.applied and "using_perforatedai" not in result.new_source
    assert any(n.startswith("removed using_perforatedai") for n in notes) == removed, notes
    assert any(n.startswith("no metric_for_best_model") for n in notes) == metric_note, notes


def test_trainer_built_elsewhere_is_a_skip_with_the_manual_step():
    source = ("from transformers import TrainingArguments\nfrom helpers import make_trainer\n"
              "args = TrainingArguments(output_dir='o', eval_strategy='epoch')\n")
    source += "import transformers\ntrainer = make_trainer(transformers.Trainer, args)\ntrainer.train()\n"
    result = perforate_source(source, filename="t.py")
    assert not result.changed
    assert any(f.code == "PAI010" and f.severity == "error" and "callbacks=[PAITrainerCallback" in f.message
               for f in result.findings)


def test_upstream_backend_still_gets_the_pai_core_callback():
    result = perforate_source(fixture("hf_trainer_basic"), filename="t.py", backend="perforatedai")
    assert result.applied == ["PAI002", "PAI010"]
    assert "from pai_core import globals_perforatedai as GPA" in result.new_source
    assert "GPA.pc.set_configuration_confirmed(True)" in result.new_source
    assert any(f.code == "PAI010" and "part of pai_core" in f.message for f in result.findings)
    compile(result.new_source, "t.py", "exec")


def test_a_script_on_the_upstream_package_is_a_skip():
    source = "from perforatedai import globals_perforatedai as GPA\n" + fixture("lightning_basic")
    result = perforate_source(source, filename="t.py")
    assert "PAILightningCallback" not in result.new_source
    assert any(f.code == "PAI011" and f.severity == "error" and "import pai_core instead" in f.message
               for f in result.findings)


def run_rewritten(script: str, tmp_path: Path) -> dict:
    """Rewrite a copy of `script` with the default rules, run it, return its pai_run.json."""
    target = tmp_path / script
    target.write_text((SCRIPTS / script).read_text())
    result = perforate_file(target, write=True)
    assert result.written and not result.refused
    env = dict(os.environ, HF_HUB_OFFLINE="1", MPLBACKEND="Agg", PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, str(target)], check=False, cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Successfully added 3 dendrites" in done.stdout
    run_folder = tmp_path / f"{target.stem}_dendritic"
    return json.loads((run_folder / "pai_run.json").read_text())


@pytest.mark.slow
def test_rewritten_hf_trainer_script_trains_with_dendrites(tmp_path):
    pytest.importorskip("transformers")
    summary = run_rewritten("hf_digits.py", tmp_path)
    assert summary["status"] == "complete" and summary["dendrites"] == 3 and summary["maximizing_score"] is True
    assert summary["epochs"] == 4 and len(summary["param_counts"]) == 4


@pytest.mark.slow
def test_rewritten_lightning_script_trains_with_dendrites(tmp_path):
    pytest.importorskip("lightning")
    summary = run_rewritten("lightning_digits.py", tmp_path)
    assert summary["status"] == "complete" and summary["dendrites"] == 3 and summary["maximizing_score"] is True
    assert (tmp_path / "checkpoints").is_dir()  # the script's own ModelCheckpoint still works with dendrites
