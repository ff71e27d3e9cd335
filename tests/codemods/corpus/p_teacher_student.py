"""Knowledge distillation: a frozen teacher CNN guides a smaller student; the student is validated."""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Teacher(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 16, 3, padding=1)
        self.fc = nn.Linear(16 * 4 * 4, 4)

    def forward(self, x):
        return self.fc(torch.flatten(F.max_pool2d(F.relu(self.conv(x)), 2), 1))


class Student(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 4 * 4, 4)

    def forward(self, x):
        return self.fc(torch.flatten(F.max_pool2d(F.relu(self.conv(x)), 2), 1))


def dataset(n, seed):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 4, (n,), generator=g)
    x = torch.randn(n, 1, 8, 8, generator=g) * 0.5
    x[torch.arange(n), 0, (y // 2) * 4, (y % 2) * 4] += 3.0
    return TensorDataset(x, y)


def distill_epoch(student, teacher, loader, optimizer, temperature):
    student.train()
    for x, y in loader:
        with torch.no_grad():
            soft = F.softmax(teacher(x) / temperature, dim=1)
        logits = student(x)
        loss = F.kl_div(F.log_softmax(logits / temperature, dim=1), soft, reduction="batchmean") \
            + F.cross_entropy(logits, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def evaluate(model, loader):
    model.eval()
    correct = 0
    with torch.no_grad():
        for x, y in loader:
            correct += (model(x).argmax(1) == y).sum().item()
    return correct / len(loader.dataset)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--temperature", type=float, default=2.0)
    args = parser.parse_args()
    torch.manual_seed(0)
    train_loader = DataLoader(dataset(256, 0), batch_size=32, shuffle=True)
    val_loader = DataLoader(dataset(128, 1), batch_size=128)
    teacher = Teacher()
    teacher.eval()
    student = Student()
    optimizer = torch.optim.Adam(student.parameters(), lr=5e-3)
    for epoch in range(args.epochs):
        distill_epoch(student, teacher, train_loader, optimizer, args.temperature)
        student_acc = evaluate(student, val_loader)
        print(f"epoch {epoch} student acc {student_acc:.3f}")


if __name__ == "__main__":
    main()
