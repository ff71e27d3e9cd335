"""The integration rules, one libcst codemod per file, in the order `pai perforate` runs them.

Each rule has a code (PAI001...), a docstring with a before/after example, and is idempotent: it detects
work already in the script (a partial integration) and does only what is missing. PAI007 (capacity-test
toggle) is not part of the default run: `pai perforate --capacity-test on|off` selects it alone.
Run one with libcst's own tool, from any folder:
`python -m libcst.tool codemod -x --no-format codemods.rules.imports.AddDendriteImports FILE`.
"""

from __future__ import annotations

from enum import Enum

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

__all__ = ["DEFAULT_RULES", "RULES", "PaiRule", "Rule", "gather_rules"]


class Rule(str, Enum):
    """Rule codes and what each one does."""

    PAI001 = "PAI001"  # imports
    PAI002 = "PAI002"  # config block before the model
    PAI003 = "PAI003"  # perforate_model after the model
    PAI004 = "PAI004"  # optimizer / scheduler registration
    PAI005 = "PAI005"  # epoch loop, add_validation_score, restructure branch
    PAI006 = "PAI006"  # extra scores (train, opt-in test)
    PAI007 = "PAI007"  # capacity-test flag toggle (explicit only)
    PAI008 = "PAI008"  # refusal of FSDP / Fabric / sharded HF Trainer or Lightning scripts
    PAI009 = "PAI009"  # DDP: re-wrap the model with pai_core.distributed.wrap_ddp on restructure
    PAI010 = "PAI010"  # HF Trainer: PAITrainerCallback in Trainer(callbacks=[...])
    PAI011 = "PAI011"  # Lightning: PAILightningCallback in Trainer(callbacks=[...])
    PAI012 = "PAI012"  # DataParallel: the bare model to the tracker, wrapped again on restructure
    PAI013 = "PAI013"  # Accelerate: the unwrapped model to the tracker, prepare again on restructure


# Order matters: the loop rule re-creates the optimizer the way PAI004 left it, and extra scores are placed
# before the add_validation_score call PAI005 inserts.
RULES: dict[str, type[PaiRule]] = {
    "PAI008": RefuseUnsupportedSetups,
    "PAI001": AddDendriteImports,
    "PAI002": InsertConfigBlock,
    "PAI003": PerforateModel,
    "PAI004": ConvertOptimizer,
    "PAI005": ConvertTrainingLoop,
    "PAI006": AddExtraScores,
    "PAI007": SetCapacityTest,
    "PAI009": RewrapDistributedModel,
    "PAI010": AddTrainerCallback,
    "PAI011": AddLightningCallback,
    "PAI012": RewrapDataParallel,
    "PAI013": PrepareAgainWithAccelerate,
}
DEFAULT_RULES = ("PAI008", "PAI001", "PAI002", "PAI003", "PAI004", "PAI005", "PAI006", "PAI009", "PAI010", "PAI011",
                 "PAI012", "PAI013")


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
