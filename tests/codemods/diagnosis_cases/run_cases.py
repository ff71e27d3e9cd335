"""Run broken perforated scripts in ONE process (one torch import) and record what each printed.

`python run_cases.py OUT.json SCRIPT...`: each script runs as `__main__` in its own folder with the GPA.pc
defaults reset; its console output, log records and `traceback.format_exc()` are saved under its path.
"""
import contextlib
import io
import json
import logging
import os
import runpy
import sys
import traceback
import warnings

import torch

torch.set_num_threads(1)
from pai_core.config import pc  # noqa: E402

results = {}
root = logging.getLogger()
root.setLevel(logging.INFO)
for path in sys.argv[2:]:
    pc.reset()
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    root.addHandler(handler)
    os.chdir(os.path.dirname(path))
    try:
        with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer), warnings.catch_warnings():
            warnings.simplefilter("always")
            runpy.run_path(path, run_name="__main__")
        failure = ""
    except Exception:
        failure = traceback.format_exc()
    finally:
        root.removeHandler(handler)
    results[path] = buffer.getvalue() + failure
with open(sys.argv[1], "w") as out:
    json.dump(results, out)
