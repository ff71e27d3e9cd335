"""PAI206: the imports of the 2024 modules go once nothing uses them (each rule added the current ones).

Before::

    from perforatedai import pb_globals as PBG
    from perforatedai import pb_utils as PBU

After (the package, `perforatedai` or `pai_core`, stays what the script used)::

    from perforatedai import globals_perforatedai as GPA, utils_perforatedai as UPA

An import still in use after the other rules means a name none of them could map: `pai migrate` then refuses
the whole script, naming each such use.
"""

from __future__ import annotations

import libcst as cst
from libcst.codemod.visitors import RemoveImportsVisitor

from codemods.examples import CURRENT_API, Invalid, Valid
from codemods.migrate._base import PACKAGES, MigrationRule
from pai_core.upstream_names import LEGACY_MODULES


class MigrateImports(MigrationRule):
    CODE = "PAI206"
    DESCRIPTION = "Remove the pb_globals / globalsFile / pb_utils / pb_models / pb_network imports left unused."
    VALID = (
        Valid(CURRENT_API),
        Valid("""
            from perforatedai import pb_globals as PBG

            PBG.switchMode = PBG.doingHistory
            PBG.nEpochsToSwitch = 10
            PBG.inputDimensions = [-1, 0, -1, -1]
            PBG.moduleNamesToConvert.append("Conv2d")
            """),
    )
    INVALID = (
        Invalid("""
            import torch
            from perforatedai import globals_perforatedai as GPA
            from perforatedai import pb_globals as PBG
            from perforatedai import pb_utils as PBU

            GPA.pc.set_n_epochs_to_switch(10)
            """, expected="""
            import torch
            from perforatedai import globals_perforatedai as GPA

            GPA.pc.set_n_epochs_to_switch(10)
            """),
    )

    def visit_Import(self, node: cst.Import) -> bool:
        for alias in node.names:
            name = self.code_of(alias.name)
            if _legacy_module(name):
                asname = self.code_of(alias.asname.name) if alias.asname else None
                RemoveImportsVisitor.remove_unused_import(self.context, name, asname=asname)
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        if node.module is None or node.relative or isinstance(node.names, cst.ImportStar):
            return False
        module = self.code_of(node.module)
        for alias in node.names:
            name = self.code_of(alias.name)
            asname = self.code_of(alias.asname.name) if alias.asname else None
            if _legacy_module(f"{module}.{name}") or _legacy_module(module):
                RemoveImportsVisitor.remove_unused_import(self.context, module, name, asname=asname)
        return False


def _legacy_module(dotted: str) -> bool:
    parts = dotted.split(".")
    return len(parts) == 2 and parts[0] in PACKAGES and parts[1] in LEGACY_MODULES
