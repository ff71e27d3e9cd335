"""`GPA` already names something else in the script, so today's import cannot be added under it: refused."""
from perforatedai import pb_globals as PBG

GPA = 3.7
PBG.maxDendrites = 4
