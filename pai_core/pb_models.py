"""Drop-in for the 2024 `perforatedai.pb_models` (PBM): processors and model helpers under their 2024 names."""
from torch import nn

from pai_core.blocks import PAISequential as PBSequential  # noqa: F401
from pai_core.blocks import ResNetPAI as ResNetPB  # noqa: F401
from pai_core.blocks import ResNetPAIPreFC as ResNetPBPreFC  # noqa: F401
from pai_core.processors import GRUProcessor as GRUProcessor  # noqa: F401
from pai_core.processors import LSTMCellProcessor as LSTMCellProcessor  # noqa: F401
from pai_core.processors import LSTMProcessor as LSTMProcessor  # noqa: F401
from pai_core.processors import MultiOutputProcessor as multiOutputProcesser  # noqa: F401

multiOutputProcessor = multiOutputProcesser


class PAIDataParallel(nn.DataParallel):
    """2024's DataParallel wrapper: plain nn.DataParallel (pai keeps dendrite shapes in the state_dict);
    pass `model.module` to the tracker."""
