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

GPA.pc.set_output_dimensions([-1, -1, 0])  # CAUSE
model = UPA.perforate_model(Net(), save_name="dims", making_graphs=False)
nn.functional.cross_entropy(model(x), y).backward()
