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

from codemods.examples import Invalid, Valid
from codemods.rules._base import PaiRule
from codemods.rules._placement import import_anchor


class AddDendriteImports(PaiRule):
    CODE = "PAI001"
    DESCRIPTION = "Import globals_perforatedai as GPA and utils_perforatedai as UPA (and LPA when needed)."
    VALID = (
        Valid("""
            import torch
            import torch.nn as nn
            from pai_core import globals_perforatedai as GPA
            from pai_core import utils_perforatedai as UPA

            model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
            optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
            """),
    )
    INVALID = (
        Invalid("""
            import torch
            import torch.nn as nn

            model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
            optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
            """, expected="""
            import torch
            import torch.nn as nn
            from pai_core import globals_perforatedai as GPA
            from pai_core import utils_perforatedai as UPA

            model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
            optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
            """),
        Invalid("""
            import torch
            import torch.nn as nn


            class RNNModel(nn.Module):
                def __init__(self, ntoken):
                    super().__init__()
                    self.encoder = nn.Embedding(ntoken, 200)
                    self.rnn = nn.LSTM(200, 200, 2)
                    self.decoder = nn.Linear(200, ntoken)

                def forward(self, x, hidden):
                    output, hidden = self.rnn(self.encoder(x), hidden)
                    return self.decoder(output), hidden


            model = RNNModel(10000)
            """, expected="""
            import torch
            import torch.nn as nn
            from pai_core import globals_perforatedai as GPA
            from pai_core import utils_perforatedai as UPA
            from pai_core import library_perforatedai as LPA


            class RNNModel(nn.Module):
                def __init__(self, ntoken):
                    super().__init__()
                    self.encoder = nn.Embedding(ntoken, 200)
                    self.rnn = nn.LSTM(200, 200, 2)
                    self.decoder = nn.Linear(200, ntoken)

                def forward(self, x, hidden):
                    output, hidden = self.rnn(self.encoder(x), hidden)
                    return self.decoder(output), hidden


            model = RNNModel(10000)
            """),
    )

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
