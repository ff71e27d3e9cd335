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

import warnings


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(20, 8)
        self.proj = nn.Linear(8, 8)
        self.out = nn.Linear(8, 5)

    def forward(self, tokens):
        return self.out(torch.relu(self.proj(self.embed(tokens))))


warnings.warn("The verbose parameter is deprecated. Please use get_last_lr() to access the learning rate.",
              UserWarning)
print("UserWarning: Detected call of `lr_scheduler.step()` before `optimizer.step()`.")
tokens, tags = torch.randint(0, 20, (4, 7)), torch.randint(0, 5, (4, 7))
model = UPA.perforate_model(Tagger(), save_name="tagger", making_graphs=False)  # CAUSE
nn.functional.cross_entropy(model(tokens).flatten(0, 1), tags.flatten()).backward()
