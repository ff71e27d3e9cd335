"""The script keeps its own value on the 2024 module: no current name, so the whole script is refused."""
from perforatedai import pb_globals as PBG
from perforatedai import pb_utils as PBU

PBG.saveName = "mine"
PBG.nEpochsToSwitch = 5
model = PBU.initializePB(make_model(), saveName=PBG.saveName)
