"""The training engine the config points at; the entry script never names it."""
import torch
import torch.nn as nn


class Runner:
    def __init__(self, epochs, lr):
        self.epochs = epochs
        self.lr = lr

    def fit(self, model, x, y):
        optimizer = torch.optim.SGD(model.parameters(), lr=self.lr)
        for epoch in range(self.epochs):
            optimizer.zero_grad()
            loss = nn.functional.mse_loss(model(x), y)
            loss.backward()
            optimizer.step()
            print(f"epoch {epoch} loss {loss.item():.4f}")
