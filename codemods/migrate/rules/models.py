"""PAI205: the 2024 model helpers and processors (`pb_models`, `pb_network`, `PBG.PBSequential`) get today's names.

Before::

    self.block = PBG.PBSequential([nn.Linear(64, 16), nn.LayerNorm(16)])
    PBG.moduleProcessingClasses.append(PBM.multiOutputProcesser)
    model = PBM.ResNetPB(model)
    model = PBM.PAIDataParallel(model)

After::

    self.block = GPA.PAISequential([nn.Linear(64, 16), nn.LayerNorm(16)])
    PBG.moduleProcessingClasses.append(LPA.MultiOutputProcessor)   # PAI201 turns this into the appender
    model = LPA.ResNetPAI(model)
    model = torch.nn.DataParallel(model)   # pai keeps dendrite shapes in the state_dict: no special wrapper

A name the 2024 modules had that pai cannot map is refused with its name.
"""

from __future__ import annotations

from codemods.examples import CURRENT_API, Invalid, Valid
from codemods.migrate._base import MigrationRule
from pai_core.options import LEGACY_OPTIONS
from pai_core.upstream_names import LEGACY_MEMBERS, LEGACY_TRACKER


class MigrateModelClasses(MigrationRule):
    CODE = "PAI205"
    DESCRIPTION = "PBG.PBSequential, PBM.multiOutputProcesser, PBM.ResNetPB, PBM.PAIDataParallel become today's."
    VALID = (Valid(CURRENT_API),)
    INVALID = (
        Invalid("""
            import torch.nn as nn
            from torchvision import models
            from perforatedai import pb_globals as PBG
            from perforatedai import pb_models as PBM

            model = PBM.ResNetPB(models.resnet18(num_classes=10))
            head = PBG.PBSequential([nn.Linear(512, 10), nn.LayerNorm(10)])
            """, expected="""
            import torch.nn as nn
            from torchvision import models
            from perforatedai import globals_perforatedai as GPA, library_perforatedai as LPA, pb_globals as PBG
            from perforatedai import pb_models as PBM

            model = LPA.ResNetPAI(models.resnet18(num_classes=10))
            head = GPA.PAISequential([nn.Linear(512, 10), nn.LayerNorm(10)])
            """),
    )

    def replace(self, legacy, original, updated):
        members = LEGACY_MEMBERS.get(legacy.module, {})
        name = legacy.path[0]
        if legacy.module == "pb_utils" or name in LEGACY_OPTIONS or name == LEGACY_TRACKER:
            return updated  # PAI201 / PAI203 / PAI204 own these
        if name not in members or len(legacy.path) > 1:
            if legacy.module in ("pb_models", "pb_network"):
                self.refuse(original, f"`{self.code_of(original)}`: {legacy.module} has no member {name!r} pai can "
                            "map to the current API (see the README's upstream-names table)")
            return updated
        return self.current(legacy.package, members[name], node=original)
