"""HF Accelerate scripts: the analysis reports the Accelerator and what goes through it, PAI013 completes the
integration (unwrapped model to the tracker, prepare again after a restructure), `pai check` knows the shape,
and a rewritten script trains on two processes with the ranks bit-identical after every restructure."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from codemods.analysis import analyze_script, analyze_source
from codemods.analysis.text import render_text
from codemods.check import check_integration
from codemods.perforate import perforate_file, perforate_source

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
ROOT = HERE.parents[1]
NLP = CORPUS / "a_nlp_example.py"


def test_analysis_reports_the_accelerator_prepare_backward_and_unwrap():
    report = analyze_script(CORPUS / "a_glue_no_trainer.py")
    accelerate = report.parallelism.accelerate
    assert report.parallelism.kind == "accelerate" and report.training_library.kind == "plain"
    assert accelerate.accelerator == "accelerator" and accelerate.line == 68
    (prepare,) = accelerate.prepares
    assert prepare.arguments == ["model", "optimizer", "train_dataloader", "eval_dataloader", "lr_scheduler"]
    assert prepare.targets == prepare.arguments and accelerate.prepare_of("model") is prepare
    assert accelerate.backward_lines == [119] and accelerate.unwrap_lines == [143]
    assert accelerate.wait_lines == [74, 142] and accelerate.plugins == []
    text = render_text(report)
    assert "Accelerate: accelerator = Accelerator(gradient_accumulation_steps=" in text
    assert "prepare(model, optimizer, train_dataloader, eval_dataloader, lr_scheduler)  [line 106]" in text
    assert "backward: line 119; unwrap_model: line 143; wait_for_everyone: line 74, 142" in text


def test_the_accelerator_is_found_by_its_resolved_name_not_its_spelling():
    source = ("import accelerate as acc\nimport torch\n\n"
              "def run(net, opt):\n    engine = acc.Accelerator()\n    net, opt = engine.prepare(net, opt)\n"
              "    engine.backward(net(torch.ones(1)).sum())\n\n"
              "class Accelerator:\n    def prepare(self, *a):\n        return a\n\n"
              "other = Accelerator()\nother.prepare(1)\n")
    accelerate = analyze_source(source).parallelism.accelerate
    assert accelerate.accelerator == "engine" and accelerate.line == 5
    assert [p.line for p in accelerate.prepares] == [6] and accelerate.backward_lines == [7]
    not_accelerate = source.split("\n\nclass")[0].replace("acc.Accelerator", "dict")
    assert analyze_source(not_accelerate).parallelism.accelerate is None


def test_a_sharding_plugin_is_reported_and_refused(tmp_path):
    script = tmp_path / "train.py"
    shutil.copyfile(CORPUS / "a_deepspeed_plugin.py", script)
    accelerate = analyze_script(script).parallelism.accelerate
    assert accelerate.plugins[0] == "deepspeed_plugin=deepspeed_plugin"
    assert "DeepSpeedPlugin(zero_stage=args.zero_stage" in accelerate.plugins[1]
    result = perforate_file(script, write=True)
    assert result.refused and not result.written and result.new_source == script.read_text()


def test_pai013_unwraps_for_the_tracker_and_prepares_again_after_a_restructure():
    source = NLP.read_text()
    result = perforate_source(source, filename=str(NLP))
    assert not result.refused and "PAI013" in result.applied, result.findings
    new = result.new_source
    assert ("unwrapped_model, restructured, training_complete = GPA.pai_tracker.add_validation_score(accuracy, "
            "accelerator.unwrap_model(model))") in new
    branch = new[new.index("elif restructured:"):]
    assert branch.index("model = unwrapped_model") < branch.index("optimizer = AdamW(params=model.parameters()")
    assert branch.index("lr_scheduler = get_linear_schedule_with_warmup(") < branch.index(
        "accelerator.wait_for_everyone()") < branch.index(
        "model, optimizer, lr_scheduler = accelerator.prepare(model, optimizer, lr_scheduler)")
    assert new.index("UPA.perforate_model(model") < new.index("= accelerator.prepare(\n")  # perforated first
    compile(new, "a_nlp_example.py", "exec")
    assert check_integration(new, filename="a_nlp_example.py").ok
    again = perforate_source(new, filename=str(NLP))
    assert not again.changed and not again.refused  # idempotent


def test_pai_check_knows_what_an_accelerate_loop_needs():
    plain = perforate_source(NLP.read_text(), filename=str(NLP), select="PAI001,PAI002,PAI003,PAI004,PAI005")
    codes = {f.code for f in check_integration(plain.new_source, filename="a.py").errors}
    assert codes == {"PAI120", "PAI121"}  # the prepared model to the tracker, no prepare after a restructure
    complete = perforate_source(NLP.read_text(), filename=str(NLP)).new_source
    late = complete.replace("    model = UPA.perforate_model(model, save_name=\"a_nlp_example_dendritic\", "
                            "maximizing_score=True)\n", "").replace(
        "    loss_fn = nn.CrossEntropyLoss()\n", "    model = UPA.perforate_model(model, save_name=\"run\", "
        "maximizing_score=True)\n    loss_fn = nn.CrossEntropyLoss()\n", 1)
    assert "PAI123" in {f.code for f in check_integration(late, filename="a.py").errors}


def test_a_hand_written_accelerate_integration_checks_clean():
    """The 2-process job of tests/pai_core/integrations, written as the skill says (not by the codemod)."""
    job = ROOT / "tests" / "pai_core" / "integrations" / "accelerate_ddp_job.py"
    report = check_integration(job)
    assert report.ok and report.integrated, [f"{e.code}: {e.message}" for e in report.errors]
    assert not {f.code for f in report.findings} & {"PAI109", "PAI120", "PAI121", "PAI122", "PAI123"}


def test_validation_on_the_main_process_only_is_refused_with_the_fix(tmp_path):
    script = tmp_path / "train.py"
    shutil.copyfile(CORPUS / "a_main_process_eval.py", script)
    result = perforate_file(script, write=True)
    assert result.refused and not result.written
    message = " ".join(f.message for f in result.findings if f.severity == "error")
    assert "PAI122" in message and "compute the score on every process" in message


# --------------------------------------------------------------------------------------- two processes
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
@pytest.mark.parametrize(("slug", "argv", "use_cpu"), [
    ("a_regression_eval_fn", ["--epochs", "2"], "1"),  # Accelerator(): CPU from the environment
    ("a_nlp_example", ["--cpu", "--num_epochs", "2"], "0"),  # Accelerator(cpu=args.cpu)
])
def test_a_rewritten_accelerate_script_trains_on_two_processes_with_identical_ranks(tmp_path, slug, argv, use_cpu):
    """torchrun, 2 CPU processes: `accelerate launch --cpu` starts one process unless MPI is set up."""
    pytest.importorskip("accelerate")
    script = tmp_path / "train.py"
    shutil.copyfile(CORPUS / f"{slug}.py", script)
    assert perforate_file(script, write=True).written
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
               "--master_port", str(_free_port()), str(HERE / "decision_probe.py"), str(tmp_path), str(script), *argv]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg", "HF_HUB_OFFLINE": "1",
           "ACCELERATE_USE_CPU": use_cpu,
           "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    assert "Successfully added 3 dendrites" in done.stdout + done.stderr
    import torch

    first, second = (torch.load(tmp_path / f"decisions{rank}.pt", weights_only=False) for rank in (0, 1))
    assert [d["world"] for d in first + second] == [2] * (len(first) + len(second))
    assert [(d["dendrites"], d["restructured"], d["complete"]) for d in first] == \
        [(1, True, False), (2, True, False), (3, True, False), (3, False, True)]  # three restructures, then done
    assert [(d["restructured"], d["complete"], d["dendrites"]) for d in second] == \
        [(d["restructured"], d["complete"], d["dendrites"]) for d in first]
    for mine, theirs in zip(first, second, strict=True):
        assert mine["weights"].keys() == theirs["weights"].keys()
        for key, value in mine["weights"].items():
            assert torch.equal(value, theirs["weights"][key]), f"{key} differs between the ranks"
    last_grown = [k for k in first[2]["weights"] if k not in first[1]["weights"]]  # the third dendrite's
    assert last_grown and all(not torch.equal(first[2]["weights"][k], first[3]["weights"][k]) for k in last_grown), \
        "the newest dendrites did not train after the model was prepared again"
    assert list((tmp_path / "train_dendritic").glob("*.csv"))  # one run folder, written by rank 0
