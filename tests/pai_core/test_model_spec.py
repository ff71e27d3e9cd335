"""Model specs: only a class or def of a project file, or an installed nn.Module subclass, is ever called, and
what may be called is read from the source before anything is imported."""
from __future__ import annotations

import sys

import pytest
from torch import nn

from pai_core.model_spec import ModelSpecError, build_model, vet_model_spec


@pytest.fixture
def marker(tmp_path):
    """A file that exists only if some code under test ran."""
    return tmp_path / "ran"


def test_build_model_from_a_file_or_a_module(tmp_path):
    script = tmp_path / "train.py"
    script.write_text("from __future__ import annotations\nimport dataclasses\nimport torch\n\n"
                      "@dataclasses.dataclass\nclass Settings:\n    width: int = 3\n\n"
                      "class Net(torch.nn.Linear):\n    def __init__(self, width=Settings().width):\n"
                      "        super().__init__(4, width)\n\nif __name__ == '__main__':\n    raise SystemExit(1)\n")
    model = build_model(f"{script}:Net", {"width": 5})
    assert isinstance(model, nn.Linear) and model.out_features == 5
    assert isinstance(build_model("torch.nn:Identity"), nn.Identity)
    with pytest.raises(ModelSpecError, match="SOURCE:NAME"):
        build_model("train.py")
    with pytest.raises(ModelSpecError, match="no top-level class or function 'Missing'.*Settings, Net"):
        build_model(f"{script}:Missing")
    with pytest.raises(ModelSpecError, match="keyword arguments"):
        build_model(f"{script}:Net", {"depth": 2})


@pytest.mark.parametrize(("spec", "kwargs", "reason"), [
    ("os:system", {"command": "touch {marker}"}, "os defines no system"),
    ("subprocess:getoutput", {"cmd": "touch {marker}"}, "getoutput is a function, not a class"),
    ("builtins:exec", {"source": "open('{marker}', 'w')"}, "builtins is not installed here or has no Python"),
    ("builtins:eval", {"source": "open('{marker}', 'w')"}, "builtins is not installed here or has no Python"),
    ("pathlib:Path", {"path": "{marker}"}, "does not show a torch.nn.Module subclass"),
    ("torch:load", {"f": "{marker}"}, "load is a function, not a class"),
    ("collections:OrderedDict", {}, "bound 2 times"),
    ("not_a_module_anywhere:Net", {}, "not installed here"),
])
def test_an_installed_callable_that_is_no_module_class_is_never_called(spec, kwargs, reason, marker):
    arguments = {key: value.format(marker=marker) for key, value in kwargs.items()}
    with pytest.raises(ModelSpecError, match=reason) as refused:
        build_model(spec, arguments)
    assert "pass 'path/to/file.py:build_model'" in str(refused.value)
    assert not marker.exists()


@pytest.mark.parametrize("spec", ["torch.nn:Linear", "torch.nn:Sequential", "torch.nn.modules.conv:Conv2d",
                                  "torch.nn:TransformerEncoderLayer"])
def test_torch_module_classes_are_vouched_for_through_their_imports(spec):
    vetted = vet_model_spec(spec)
    assert vetted.kind == "class" and vetted.module == spec.partition(":")[0]


def test_an_installed_package_is_read_not_imported(tmp_path, monkeypatch, marker):
    package = tmp_path / "site" / "zoo"
    package.mkdir(parents=True)
    announce = f"open({str(marker)!r}, 'a').write(__name__ + '\\n')\n"
    (package / "__init__.py").write_text(announce)
    (package / "layers.py").write_text(announce + "import torch.nn as nn\n\nclass Block(nn.Module):\n    pass\n")
    (package / "models.py").write_text(
        announce + "from .layers import Block\n\n\nclass Net(Block):\n    def __init__(self, width=2):\n"
        "        super().__init__()\n        self.fc = Block()\n\n\ndef helper(**kwargs):\n    return None\n")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    vetted = vet_model_spec("zoo.models:Net")
    for refused, reason in [("zoo.models:helper", "a function"), ("zoo.models:Missing", "defines no Missing"),
                            ("zoo:models", "imported as a module|defines no models")]:
        with pytest.raises(ModelSpecError, match=reason):
            vet_model_spec(refused)
    assert not marker.exists() and "zoo" not in sys.modules  # nothing of the package ran while vetting
    try:
        assert type(build_model(vetted, {"width": 3})).__name__ == "Net"
    finally:
        for name in ("zoo", "zoo.layers", "zoo.models"):
            sys.modules.pop(name, None)
    assert sorted(marker.read_text().split()) == ["zoo", "zoo.layers", "zoo.models"]  # run once vouched for


MODEL = "import torch\nfrom torch import nn\n\n\nclass Net(nn.Module):\n    def __init__(self, path=None):\n" \
        "        super().__init__()\n        if path:\n            open(path, 'w').write('ran')\n"


@pytest.mark.parametrize(("source", "name", "reason"), [
    ("from os import system as build\n", "build", "'build' in .* is imported at the top level"),
    ("import os\nbuild = os.system\n", "build", "is assigned at the top level"),
    ("import os\n\n\ndef build():\n    pass\n\n\ndef swap():\n    global build\n    build = os.system\n",
     "build", "is assigned"),
    ("from os import *\n", "system", "no top-level class or function 'system'"),
    ("class Settings:\n    def __init__(self, path):\n        open(path, 'w')\n", "Settings",
     "not a torch.nn.Module subclass"),
    ("class Settings(dict):\n    pass\n", "Settings", "not a torch.nn.Module subclass"),
    (MODEL, "Net.__init__", "not one top-level name"),
    ("x = " + "[" * 3000 + "]" * 3000 + "\n", "x", "not valid Python"),
    ("def build(:\n", "build", "not valid Python"),
])
def test_a_file_spec_must_define_the_name_by_class_or_def(tmp_path, source, name, reason, marker):
    path = tmp_path / "models.py"
    path.write_text(source)
    with pytest.raises(ModelSpecError, match=reason):
        build_model(f"{path}:{name}", {"path": str(marker)}, roots=[tmp_path])
    assert not marker.exists()


def test_a_file_spec_must_stay_inside_the_roots(tmp_path, marker):
    project, outside = tmp_path / "project", tmp_path / "outside"
    project.mkdir()
    outside.mkdir()
    (outside / "models.py").write_text(MODEL)
    (project / "link.py").symlink_to(outside / "models.py")
    for spec in (f"{outside / 'models.py'}:Net", "link.py:Net", "../outside/models.py:Net"):
        with pytest.raises(ModelSpecError, match="outside the folders the model may come from"):
            build_model(spec, {"path": str(marker)}, roots=[project])
    assert not marker.exists()
    (project / "models.py").write_text(MODEL)
    assert vet_model_spec("models.py:Net", [project]).path == project / "models.py"


def test_what_the_import_produced_is_checked_before_the_call(tmp_path, marker):
    """A base the source cannot show passes the static check; the imported class must still be a Module."""
    path = tmp_path / "models.py"
    path.write_text("import os\n\nBase = type('Base', (), {})\n\n\nclass Net(Base):\n"
                    "    def __init__(self, path):\n        open(path, 'w')\n\n\n"
                    "def build(path):\n    open(path, 'w')\n\n\nglobals()['build'] = os.system\n")
    for name in ("Net", "build"):
        vetted = vet_model_spec(f"{path}:{name}", [tmp_path])
        with pytest.raises(ModelSpecError, match="After importing"):
            build_model(vetted, {"path": str(marker)})
    assert not marker.exists()


def test_a_decorated_factory_and_a_subclass_of_a_local_module_are_built(tmp_path):
    path = tmp_path / "models.py"
    path.write_text("import torch.nn as nn\n\nREGISTRY = {}\n\n\ndef register(factory):\n"
                    "    REGISTRY[factory.__name__] = factory\n    return factory\n\n\n"
                    "class Base(nn.Module):\n    pass\n\n\nclass Net(Base):\n    def __init__(self, width=2):\n"
                    "        super().__init__()\n        self.fc = nn.Linear(width, 1)\n\n\n"
                    "@register\ndef build(width=2):\n    return Net(width)\n")
    assert vet_model_spec(f"{path}:Net", [tmp_path]).kind == "class"
    assert build_model(f"{path}:build", {"width": 4}, roots=[tmp_path]).fc.in_features == 4
