"""Drop-in for `perforatedai.library_perforatedai` (LPA): processors and ResNet rebuilds (no torchvision)."""
from pai_core.blocks import ResNetPAI, ResNetPAIPreFC  # noqa: F401
from pai_core.processors import (  # noqa: F401
    GRUProcessor,
    LSTMCellProcessor,
    LSTMProcessor,
    LSTMProcessorLastHidden,
    MultiOutputProcessor,
    PAIProcessor,
)
