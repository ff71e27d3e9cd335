import math

import torch
from torch.nn.modules.module import Module
from torch.nn.parameter import Parameter


class GraphConvolution(Module):
    """One graph convolution: features times a weight, then summed over the neighbours (dense adjacency)."""

    def __init__(self, in_features, out_features):
        super().__init__()
        self.weight = Parameter(torch.empty(in_features, out_features))
        self.bias = Parameter(torch.zeros(out_features))
        bound = 1.0 / math.sqrt(out_features)
        torch.nn.init.uniform_(self.weight, -bound, bound)

    def forward(self, features, adj):
        return torch.mm(adj, torch.mm(features, self.weight)) + self.bias
