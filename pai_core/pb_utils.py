"""Drop-in for the 2024 `perforatedai.pb_utils` (PBU): conversion, save/load under their camelCase names."""
from __future__ import annotations

from typing import Any

from pai_core import utils_perforatedai as _upa
from pai_core.legacy import convertNetwork, initializePB  # noqa: F401


def loadSystem(net, folder: str, name: str, loadFromRestart: bool = False, switchCall: bool = False):
    return _upa.load_system(net, folder, name, loadFromRestart, switchCall)


def saveSystem(net, folder: str, name: str):
    return _upa.save_system(net, folder, name)


def loadPAIModel(net, filename: str):
    """Load a finished run's best model for inference (`pai_core.deploy.load_for_inference`)."""
    from pai_core.deploy import load_for_inference

    return load_for_inference(net, filename)


def getPBModules(net, depth: int = 0) -> list:
    return _upa.get_pai_modules(net, depth)


def countParams(net) -> int:
    return int(_upa.count_params(net))


def deepCopyPB(net):
    return _upa.deep_copy_pai(net)


def __getattr__(name: str) -> Any:
    raise AttributeError(f"module 'pb_utils' has no attribute {name!r} (pai maps the 2024 names in the README's "
                         "upstream-names table)")
