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

class Seq(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(4, 5, batch_first=True)
        self.head = nn.Linear(5, 3)

    def forward(self, seq):
        out, _ = self.rnn(seq)
        return self.head(out[:, -1])


GPA.pc.append_module_names_to_perforate(["GRU"])  # CAUSE
model = UPA.perforate_model(Seq(), save_name="gru", making_graphs=False)
model(torch.randn(2, 3, 4))
