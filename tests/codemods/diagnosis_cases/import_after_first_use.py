import torch
from torch import nn

torch.manual_seed(0)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 6)
        self.fc2 = nn.Linear(6, 3)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


GPA.pc.set_testing_dendrite_capacity(True)  # CAUSE
from pai_core import globals_perforatedai as GPA  # noqa: E402
from pai_core import utils_perforatedai as UPA  # noqa: E402

model = UPA.perforate_model(Net(), save_name="late_import", making_graphs=False)
