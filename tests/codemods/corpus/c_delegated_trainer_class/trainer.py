"""The project's own Trainer: fit() owns the epoch loop, evaluate() the validation metric."""
import torch


class Trainer:
    def __init__(self, model, optimizer, criterion, train_loader, val_loader):
        self.model, self.optimizer, self.criterion = model, optimizer, criterion
        self.train_loader, self.val_loader = train_loader, val_loader
        self.best = 0.0

    def train_epoch(self):
        self.model.train()
        for x, y in self.train_loader:
            self.optimizer.zero_grad()
            loss = self.criterion(self.model(x), y)
            loss.backward()
            self.optimizer.step()
        return loss.item()

    @torch.no_grad()
    def evaluate(self):
        self.model.eval()
        correct = total = 0
        for x, y in self.val_loader:
            correct += (self.model(x).argmax(1) == y).sum().item()
            total += len(y)
        return correct / total

    def fit(self, epochs):
        for epoch in range(epochs):
            loss = self.train_epoch()
            acc = self.evaluate()
            self.best = max(self.best, acc)
            print(f"epoch {epoch} loss {loss:.3f} val_acc {acc:.3f}")
        return self.best
