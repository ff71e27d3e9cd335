import torch
from torch import nn
from pai_core import globals_perforatedai as GPA
from pai_core import utils_perforatedai as UPA

torch.manual_seed(0)


class Tagger(nn.Module):
    """Token features -> two projections over the whole sequence -> mean pool -> class scores."""

    def __init__(self):
        super().__init__()
        self.proj1 = nn.Linear(8, 8)
        self.proj2 = nn.Linear(8, 8)
        self.head = nn.Linear(8, 3)

    def forward(self, tokens):
        hidden = torch.relu(self.proj1(tokens))
        hidden = torch.relu(self.proj2(hidden))
        return self.head(hidden.mean(dim=1))


tokens, labels = torch.randn(16, 5, 8), torch.randint(0, 3, (16,))

seq = Tagger()
seq = UPA.perforate_model(seq, save_name="sequence", making_graphs=False)  # CAUSE
GPA.pai_tracker.set_optimizer(torch.optim.Adam)
optimizer = GPA.pai_tracker.setup_optimizer(seq, {"params": seq.parameters(), "lr": 0.01})
for epoch in range(3):
    optimizer.zero_grad()
    nn.functional.cross_entropy(seq(tokens), labels).backward()
    optimizer.step()
    seq, restructured, done = GPA.pai_tracker.add_validation_score(0.5, seq)
    if done:
        break
    if restructured:
        optimizer = GPA.pai_tracker.setup_optimizer(seq, {"params": seq.parameters(), "lr": 0.01})
