"""The `pai migrate` rules, one rename family of the 2024 API per file, in the order they run.

Each rule class declares its code (`CODE`, PAI201...) and carries `VALID` / `INVALID` example scripts; its
module docstring has a before/after example. Each matches by qualified name (any alias, any import form) and is
idempotent: a script on the current API has no 2024 name left to match. Run one alone with libcst's tool:
`python -m libcst.tool codemod -x --no-format codemods.migrate.rules.tracker_calls.MigrateTrackerCalls FILE`
(a name it cannot map fails the file and leaves it untouched).
"""

from __future__ import annotations

from codemods.migrate.rules.config_options import MigrateConfigOptions
from codemods.migrate.rules.imports import MigrateImports
from codemods.migrate.rules.models import MigrateModelClasses
from codemods.migrate.rules.perforate_calls import MigratePerforateCalls
from codemods.migrate.rules.tracker_calls import MigrateTrackerCalls
from codemods.migrate.rules.validation_shape import MigrateValidationShape

# Order matters: the return shape is fixed while the call still has its 2024 name, and the imports go last,
# when no reference to a 2024 module is left.
RULES = (MigrateConfigOptions, MigrateValidationShape, MigrateTrackerCalls, MigratePerforateCalls,
         MigrateModelClasses, MigrateImports)

__all__ = ["RULES", *(rule.__name__ for rule in RULES)]
