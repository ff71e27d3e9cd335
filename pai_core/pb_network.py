"""Drop-in for the 2024 `perforatedai.pb_network`: the model helpers of pb_models."""
from pai_core.pb_models import PAIDataParallel, PBSequential, ResNetPB, multiOutputProcesser  # noqa: F401
