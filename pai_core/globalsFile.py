"""Drop-in for the 2024 `perforatedai.globalsFile` (gf): the same module object as pai_core.pb_globals."""
import sys

from pai_core import pb_globals

sys.modules[__name__] = pb_globals
