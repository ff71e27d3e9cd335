"""Sensor-window encoder: 1-D convolutions over time, then a classifier (the project's model package)."""
import torch.nn as nn


class ConvStem(nn.Module):
    def __init__(self, in_channels, width):
        super().__init__()
        self.conv = nn.Conv1d(in_channels, width, kernel_size=5, padding=2)
        self.norm = nn.BatchNorm1d(width)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.norm(self.conv(x)))


class Encoder(nn.Module):
    def __init__(self, in_channels=3, width=16, num_classes=4):
        super().__init__()
        self.stem = ConvStem(in_channels, width)
        self.body = nn.Sequential(nn.Conv1d(width, width, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool1d(1))
        self.classifier = nn.Linear(width, num_classes)

    def forward(self, x):
        return self.classifier(self.body(self.stem(x)).squeeze(-1))
