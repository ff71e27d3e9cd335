"""The script reads the `improved` flag the four-value call returned: today's call has none, so refused."""
from pai_core import pb_globals as PBG

model, improved, restructured, trainingComplete = PBG.pbTracker.addValidationScore(score, model, "run")
if improved:
    save_checkpoint(model)
