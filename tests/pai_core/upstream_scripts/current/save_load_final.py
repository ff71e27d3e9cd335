"""Current API: save_net / load_net after training, prepare_final_model for deployment, count_params."""
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch import nn

from perforatedai import globals_perforatedai as GPA
from perforatedai import utils_perforatedai as UPA


def make_model():
    return nn.Sequential(nn.Linear(64, 10), nn.Tanh(), nn.Linear(10, 10))


digits = load_digits()
x = torch.tensor(digits.data, dtype=torch.float32) / 16
y = torch.tensor(digits.target)
GPA.pc.set_module_names_to_perforate(["Linear"])
GPA.pc.set_output_dimensions([-1, 0])
model = UPA.perforate_model(make_model(), save_name="saveload", maximizing_score=True)
GPA.pai_tracker.set_optimizer(torch.optim.Adam)
optimizer = GPA.pai_tracker.setup_optimizer(model, {"params": model.parameters(), "lr": 0.02})
for epoch in range(50):
    for i in range(0, 1200, 100):
        optimizer.zero_grad()
        F.cross_entropy(model(x[i:i + 100]), y[i:i + 100]).backward()
        optimizer.step()
    with torch.no_grad():
        score = (model(x[1200:]).argmax(1) == y[1200:]).float().mean().item() * 100
    model, restructured, training_complete = GPA.pai_tracker.add_validation_score(score, model)
    if training_complete:
        break
    if restructured:
        optimizer = GPA.pai_tracker.setup_optimizer(model, {"params": model.parameters(), "lr": 0.02})
UPA.save_net(model, "saveload", "final")
again = UPA.perforate_model(make_model(), save_name="saveload_again", maximizing_score=True)
again = UPA.load_net(again, "saveload", "final")
final = UPA.prepare_final_model(again)
with torch.no_grad():
    assert torch.allclose(final(x[1200:]), model(x[1200:]), atol=1e-5)
print("training complete", epoch, UPA.count_params(model), "parameters")
