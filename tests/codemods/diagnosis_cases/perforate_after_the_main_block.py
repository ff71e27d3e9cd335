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

if __name__ == "__main__":
    model = Net()
    GPA.pai_tracker.set_optimizer(torch.optim.Adam)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    for epoch in range(3):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
        model, restructured, done = GPA.pai_tracker.add_validation_score(0.5, model)
        if done:
            break
        if restructured:
            optimizer = GPA.pai_tracker.setup_optimizer(model, {"params": model.parameters(), "lr": 0.01})

model = UPA.perforate_model(model, save_name="after_main", making_graphs=False)  # CAUSE
