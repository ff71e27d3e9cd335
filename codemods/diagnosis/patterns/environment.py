"""Not pai's fault but met while running it: missing packages, no GPU, containers, the debugger prompt,
scripts that stop early, files that cannot be written."""

from __future__ import annotations

from codemods.diagnosis.models import Pattern
from codemods.diagnosis.patterns.common import doc_for

PATTERNS: list[Pattern] = [
    Pattern(
        id="docker-shm",
        code="PAI369",
        title="shared memory / libGL in containers",
        category="environment",
        signals=[
            r"libGL\.so\.1",
            r"(bus error|shared memory)[^\n]{0,60}(shm|DataLoader|worker)",
            r"DataLoader worker \(pid \d+\) is killed by signal: Bus error",
        ],
        cause="Docker's default shared memory is too small for DataLoader workers, or a GL library is missing.",
        fix="Run the container with `--shm-size=8g`; install `libgl1` (or use `num_workers=0`).",
        doc=doc_for("environment"),
        confidence=0.7,
    ),
    Pattern(
        id="missing-package",
        code="PAI378",
        title="a package the script imports is not installed (not a pai problem)",
        category="environment",
        exception_types=["ModuleNotFoundError"],
        signals=[r"No module named '(?!pai_core|perforatedai|pb_|perforatedbp)(?P<package>[\w]+)[\w.]*'"],
        cause="The script imports `{package}`, which is not installed in this Python environment. This is not "
        "caused by pai or the dendrite integration.",
        fix="Install it in the environment that runs the script (`pip install {package}`; the PyPI name can differ "
        "from the import name), or remove the import if the script does not need it.",
        doc=doc_for("environment"),
        confidence=0.9,
    ),
    Pattern(
        id="no-cuda",
        code="PAI379",
        title="the script asks for a GPU this machine does not have (not a pai problem)",
        category="environment",
        signals=[r"Torch not compiled with CUDA enabled", r"Found no NVIDIA driver",
                 r"Attempting to deserialize object on a CUDA device but torch\.cuda\.is_available\(\) is False"],
        cause="The script moves tensors or the model to CUDA, but this torch build or machine has no GPU. This is "
        "not caused by pai.",
        fix="Pick the device at run time: `device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')` "
        "and use it everywhere (`torch.load(..., map_location=device)` for checkpoints).",
        doc=doc_for("environment"),
        confidence=0.85,
    ),
    Pattern(
        id="pdb-prompt",
        code="PAI380",
        title="the run stopped in the debugger",
        category="environment",
        exception_types=["BdbQuit"],
        signals=[r"^\(Pdb\)", r"\bBdbQuit\b", r"Type 'c' \+ enter to continue", r"Press enter to confirm"],
        log_only=True,
        cause="Upstream stops in pdb on many checks (unwrapped parameters, tuple outputs, modules without gradient, "
        "load failures, DataParallel passed); in a batch job this hangs or ends with BdbQuit. The message just "
        "above the prompt is the real problem.",
        fix="Read the message printed right before `(Pdb)` (pai diagnose ranks it above this entry); "
        "pai_core raises exceptions instead of opening pdb.",
        doc=doc_for("debugging"),
        confidence=0.55,
    ),
    Pattern(
        id="silent-exit",
        code="PAI381",
        title="the script ended early without a traceback",
        category="environment",
        signals=[
            r"SystemExit: (0|-1|1)\b",
            r"exit(ed)? with (code|status) 0[^\n]{0,60}(no|without) (error|output)",
            r"all input dim problems now printed",
        ],
        cause="Upstream calls sys.exit after printing some errors (output dimensions, '/' in save_name): exit code 0 "
        "does not mean success.",
        fix="Look for the message printed just before the exit (output dimensions are the usual cause) and fix it; "
        "`GPA.pc.set_debugging_output_dimensions(1)` prints every dimension problem at once.",
        doc=doc_for("debugging"),
        confidence=0.5,
    ),
    # errors pai_core itself raises
    Pattern(
        id="plot-not-writable",
        code="PAI405",
        title="the plot file cannot be written",
        category="environment",
        signals=[r"Cannot write the plot to"],
        cause="The plot path is in a missing or read-only directory.",
        fix="Pass a writable path with `--plot`, e.g. `--plot ./run1_summary.png`.",
        doc=doc_for("run-analysis"),
        confidence=0.85,
    ),
]
