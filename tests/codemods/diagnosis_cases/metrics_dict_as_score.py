import torch
from torch import nn
from pai_core import globals_perforatedai as GPA
from pai_core import utils_perforatedai as UPA

torch.manual_seed(0)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 6)
        self.fc2 = nn.Linear(6, 3)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


x, y = torch.randn(16, 8), torch.randint(0, 3, (16,))

model = UPA.perforate_model(Net(), save_name="dict", making_graphs=False)
GPA.pai_tracker.set_optimizer_instance(torch.optim.Adam(model.parameters(), lr=0.01))
metrics = {"accuracy": 0.5, "loss": 1.0}
model, restructured, done = GPA.pai_tracker.add_validation_score(metrics, model)  # CAUSE
