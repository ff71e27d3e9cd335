"""PAI001: import the dendrite library's modules under the names the rest of the integration uses.

Before::

    import torch

After (default backend `pai_core`; `--backend perforatedai` imports the upstream package instead)::

    import torch
    from pai_core import globals_perforatedai as GPA
    from pai_core import utils_perforatedai as UPA

`library_perforatedai as LPA` is added too when the recommended config registers processors (LSTM/GRU).
Imports a partial integration already has are kept, under their aliases, and never duplicated. New imports go
at the end of the module's first import block (after the docstring and `__future__` imports), never after a late
import that follows code.
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m
from libcst.codemod import SkipFile

from codemods.rules._base import PaiRule
from codemods.rules._placement import import_anchor


class AddDendriteImports(PaiRule):
    CODE = "PAI001"
    DESCRIPTION = "Import globals_perforatedai as GPA and utils_perforatedai as UPA (and LPA when needed)."

    def plan(self, tree: cst.Module) -> None:
        roles = set((self.report.integration.aliases or {}).values())
        needed = []
        if "globals" not in roles:
            needed.append(("globals_perforatedai", "GPA"))
        if "utils" not in roles:
            needed.append(("utils_perforatedai", "UPA"))
        if self.perforation_config().processors and "library" not in roles:
            needed.append(("library_perforatedai", "LPA"))
        if not needed:
            raise SkipFile(f"{self.CODE}: the library modules are already imported")
        lines = [f"from {self.package} import {module} as {alias}" for module, alias in needed]
        anchor, after = import_anchor(tree)
        if after:
            self.add_edit(self.lines.get(anchor), after=self.stmts(lines))
        else:
            self.add_edit(self.lines.get(anchor), before=self.stmts(lines))
