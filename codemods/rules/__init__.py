"""The integration rules, one libcst codemod per file, in the order `pai perforate` runs them.

Each rule class declares its code (`CODE`, PAI001...) and carries its own `VALID` / `INVALID` example scripts;
its module docstring has a before/after example. Every rule is idempotent: it detects work already in the
script (a partial integration) and does only what is missing. The registries below are built from the classes.
PAI007 (capacity-test toggle, `DEFAULT = False`) is not part of the default run: `pai perforate --capacity-test
on|off` selects it alone. Run one with libcst's own tool, from any folder:
`python -m libcst.tool codemod -x --no-format codemods.rules.imports.AddDendriteImports FILE`.
"""

from __future__ import annotations

from codemods.rules._base import PaiRule
from codemods.rules.accelerate import PrepareAgainWithAccelerate
from codemods.rules.capacity_test import SetCapacityTest
from codemods.rules.config_block import InsertConfigBlock
from codemods.rules.data_parallel import RewrapDataParallel
from codemods.rules.distributed import RewrapDistributedModel
from codemods.rules.extra_scores import AddExtraScores
from codemods.rules.hf_trainer import AddTrainerCallback
from codemods.rules.imports import AddDendriteImports
from codemods.rules.lightning import AddLightningCallback
from codemods.rules.optimizer import ConvertOptimizer
from codemods.rules.perforate_model import PerforateModel
from codemods.rules.training_loop import ConvertTrainingLoop
from codemods.rules.unsupported import RefuseUnsupportedSetups

__all__ = ["DEFAULT_RULES", "RULES", "PaiRule", "gather_rules"]

# Order matters: the refusal comes first, the loop rule re-creates the optimizer the way PAI004 left it, and
# extra scores are placed before the add_validation_score call PAI005 inserts. Each class declares its CODE.
RULES: dict[str, type[PaiRule]] = {rule.CODE: rule for rule in (
    RefuseUnsupportedSetups, AddDendriteImports, InsertConfigBlock, PerforateModel, ConvertOptimizer,
    ConvertTrainingLoop, AddExtraScores, SetCapacityTest, RewrapDistributedModel, AddTrainerCallback,
    AddLightningCallback, RewrapDataParallel, PrepareAgainWithAccelerate)}
DEFAULT_RULES = tuple(code for code, rule in RULES.items() if rule.DEFAULT)


def gather_rules(select: str | list[str] | tuple[str, ...] | None = None) -> list[type[PaiRule]]:
    """The rule classes to run, in order. `select`: codes or prefixes ("PAI00", "PAI001,PAI003"), or "ALL"."""
    if select is None:
        return [RULES[code] for code in DEFAULT_RULES]
    if isinstance(select, str):
        select = [s for s in select.split(",")]
    wanted = [s.strip().upper() for s in select if s.strip()]
    if "ALL" in wanted:
        return list(RULES.values())
    unknown = [w for w in wanted if not any(code.startswith(w) for code in RULES)]
    if unknown:
        raise ValueError(f"unknown rule code(s) {', '.join(unknown)}; known: {', '.join(RULES)}")
    return [cls for code, cls in RULES.items() if any(code.startswith(w) for w in wanted)]
