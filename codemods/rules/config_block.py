"""PAI002: put the perforation settings for the detected architecture right before the model is built.

Before::

    model = Net().to(device)

After (a CNN; transformers, ResNets, RNNs and unknown models get their own settings, see
`codemods.analysis.recommend_config`)::

    GPA.pc.set_testing_dendrite_capacity(True)
    GPA.pc.set_module_names_to_perforate(['Conv2d', 'Linear'])
    GPA.pc.set_output_dimensions([-1, 0, -1, -1])
    model = Net().to(device)

The capacity test always comes first (flip it with `pai perforate --capacity-test off` after the success
message). With `--backend perforatedai` the upstream library also gets `set_configuration_confirmed(True)` so
it does not stop for its interactive confirmation. A script that already sets `GPA.pc.*` is left alone.
"""

from __future__ import annotations

import libcst as cst
from libcst.codemod import SkipFile

from codemods.examples import Invalid, Valid
from codemods.rules._base import FRAMEWORKS, PaiRule
from codemods.rules._placement import config_anchor, trained_constructions


class InsertConfigBlock(PaiRule):
    CODE = "PAI002"
    DESCRIPTION = "Insert the GPA.pc.* settings for the detected architecture before the model is built."
    FRAMEWORKS = FRAMEWORKS
    VALID = (
        Valid("""
            import torch
            import torch.nn as nn
            from pai_core import globals_perforatedai as GPA
            from pai_core import utils_perforatedai as UPA

            GPA.pc.set_testing_dendrite_capacity(False)
            model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
            optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
            """),
    )
    INVALID = (
        Invalid("""
            import torch
            import torch.nn as nn
            from pai_core import globals_perforatedai as GPA
            from pai_core import utils_perforatedai as UPA

            model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
            optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
            """, expected="""
            import torch
            import torch.nn as nn
            from pai_core import globals_perforatedai as GPA
            from pai_core import utils_perforatedai as UPA

            GPA.pc.set_testing_dendrite_capacity(True)
            GPA.pc.set_module_names_to_perforate(['Linear'])
            GPA.pc.set_output_dimensions([-1, 0, -1, -1])
            model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
            optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
            """),
        Invalid("""
            import torch
            import torch.nn as nn
            from perforatedai import globals_perforatedai as GPA
            from perforatedai import utils_perforatedai as UPA

            model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
            optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
            """, expected="""
            import torch
            import torch.nn as nn
            from perforatedai import globals_perforatedai as GPA
            from perforatedai import utils_perforatedai as UPA

            GPA.pc.set_testing_dendrite_capacity(True)
            GPA.pc.set_configuration_confirmed(True)
            GPA.pc.set_module_names_to_perforate(['Linear'])
            GPA.pc.set_output_dimensions([-1, 0, -1, -1])
            model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
            optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
            """, options={"backend": "perforatedai"}),
    )

    def plan(self, tree: cst.Module) -> None:
        if self.has_config():
            raise SkipFile(f"{self.CODE}: the script already sets GPA.pc options")
        instance = self.primary_model()
        if instance is None:
            raise self.skip("no model construction found; put the GPA.pc settings before your model is built")
        anchor = config_anchor(self, trained_constructions(self))
        if anchor is None:
            raise self.skip("could not find the statement that builds the model", instance.line)
        lines = self.perforation_config().config_lines(self.gpa, "LPA")
        if self.package == "perforatedai":
            lines.insert(1, f"{self.gpa}.pc.set_configuration_confirmed(True)")
        self.add_edit(self.lines.get(anchor), before=self.stmts(lines))
