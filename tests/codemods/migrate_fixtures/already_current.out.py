"""A current-API script: nothing to migrate."""
from pai_core import globals_perforatedai as GPA
from pai_core import utils_perforatedai as UPA

GPA.pc.set_switch_mode(GPA.pc.DOING_HISTORY)
model = UPA.perforate_model(make_model(), save_name="run", maximizing_score=True)
model, restructured, training_complete = GPA.pai_tracker.add_validation_score(0.5, model)
