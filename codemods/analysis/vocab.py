"""Name vocabularies: layer kinds, architecture families, metric directions, size-knob roles."""

from __future__ import annotations

import re

# torch.nn classes that tell us something about the architecture
LAYER_KINDS = {
    "Linear",
    "Bilinear",
    "LazyLinear",
    "Conv1d",
    "Conv2d",
    "Conv3d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "ConvTranspose3d",
    "LazyConv1d",
    "LazyConv2d",
    "LazyConv3d",
    "LSTM",
    "GRU",
    "RNN",
    "LSTMCell",
    "GRUCell",
    "RNNCell",
    "MultiheadAttention",
    "Transformer",
    "TransformerEncoder",
    "TransformerDecoder",
    "TransformerEncoderLayer",
    "TransformerDecoderLayer",
    "BatchNorm1d",
    "BatchNorm2d",
    "BatchNorm3d",
    "LayerNorm",
    "GroupNorm",
    "InstanceNorm1d",
    "InstanceNorm2d",
    "InstanceNorm3d",
    "SyncBatchNorm",
    "RMSNorm",
    "Embedding",
    "EmbeddingBag",
    "MaxPool1d",
    "MaxPool2d",
    "MaxPool3d",
    "AvgPool1d",
    "AvgPool2d",
    "AvgPool3d",
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AdaptiveAvgPool3d",
    "AdaptiveMaxPool2d",
    "Dropout",
    "Dropout1d",
    "Dropout2d",
    "Dropout3d",
    "ReLU",
    "GELU",
    "SiLU",
    "Tanh",
    "Sigmoid",
    "LeakyReLU",
    "ELU",
    "Softmax",
    "LogSoftmax",
    "Mish",
    "Sequential",
    "ModuleList",
    "ModuleDict",
    "Flatten",
    "Identity",
    "PixelShuffle",
    "Upsample",
}
CONV = {
    "Conv1d",
    "Conv2d",
    "Conv3d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "ConvTranspose3d",
    "LazyConv1d",
    "LazyConv2d",
    "LazyConv3d",
}
RECURRENT = {"LSTM", "GRU", "RNN", "LSTMCell", "GRUCell", "RNNCell"}
ATTENTION = {
    "MultiheadAttention",
    "Transformer",
    "TransformerEncoder",
    "TransformerDecoder",
    "TransformerEncoderLayer",
    "TransformerDecoderLayer",
}
DENSE = {"Linear", "Bilinear", "LazyLinear"}

MODULE_BASES = {
    "torch.nn.Module",
    "torch.nn.modules.module.Module",
    "nn.Module",
    "Module",
    "torch.nn.Sequential",
    "nn.Sequential",
    "lightning.LightningModule",
    "lightning.pytorch.LightningModule",
    "pytorch_lightning.LightningModule",
    "pl.LightningModule",
    "L.LightningModule",
    "pytorch_lightning.core.LightningModule",
    "lightning.pytorch.core.LightningModule",
    "transformers.PreTrainedModel",
    "transformers.modeling_utils.PreTrainedModel",
}
LIGHTNING_MODULES = {b for b in MODULE_BASES if "LightningModule" in b}

RESIDUAL_BLOCK = re.compile(
    r"(basic_?block|bottleneck|res(idual)?_?block|resblock|residual|preact)", re.IGNORECASE
)

# architecture names (torchvision/timm/HF model ids) -> family
_FAMILIES = [
    (re.compile(r"(^|[^a-z])(wide_)?res(net|next)|regnet|^resnet", re.IGNORECASE), "resnet"),
    (
        re.compile(
            r"vit|deit|swin|beit|bert|gpt|t5|bart|llama|mistral|roberta|electra|xlnet|albert|whisper|"
            r"wav2vec|transformer|opt-|bloom|falcon|qwen|phi|gemma|clip|maxvit|mobilevit|levit|pythia|"
            r"automodel|vision_transformer|distil",
            re.IGNORECASE,
        ),
        "transformer",
    ),
    (
        re.compile(
            r"vgg|alexnet|densenet|mobilenet|efficientnet|convnext|squeezenet|inception|googlenet|"
            r"shufflenet|mnasnet|lenet|ghostnet|xception|darknet|cspnet|dla|hrnet|unet|yolo|fcn|deeplab",
            re.IGNORECASE,
        ),
        "cnn",
    ),
    (re.compile(r"lstm|gru|rnn", re.IGNORECASE), "rnn"),
    (re.compile(r"mlp", re.IGNORECASE), "mlp"),
]


def family_of(name: str) -> str:
    for pattern, family in _FAMILIES:
        if pattern.search(name):
            return family
    return "unknown"


# metric directions (workflow s.2.5)
_MAX_TOKENS = {
    "acc",
    "accs",
    "accu",
    "accuracy",
    "accuracies",
    "accurate",
    "top1",
    "top5",
    "top",
    "f1",
    "fscore",
    "auc",
    "auroc",
    "roc",
    "psnr",
    "ssim",
    "precision",
    "prec",
    "recall",
    "rec",
    "bleu",
    "rouge",
    "dice",
    "iou",
    "miou",
    "map",
    "correct",
    "r2",
    "ap",
    "ndcg",
    "mrr",
    "hit",
    "hits",
    "kappa",
    "mcc",
    "sacrebleu",
    "meteor",
    "exact",
    "em",
}
_MIN_TOKENS = {
    "loss",
    "losses",
    "error",
    "err",
    "errors",
    "mse",
    "mae",
    "rmse",
    "perplexity",
    "ppl",
    "wer",
    "cer",
    "nll",
    "crossentropy",
    "ce",
    "l1",
    "l2",
    "bpc",
    "bpd",
    "distance",
    "dist",
    "regret",
    "mape",
    "smape",
    "huber",
}
_TOKEN_SPLIT = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")


def name_tokens(name: str) -> list[str]:
    tokens: list[str] = []
    for t in _TOKEN_SPLIT.split(name):
        if not t:
            continue
        t = t.lower()
        tokens.append(t)
        stripped = t.rstrip("0123456789")
        if stripped and stripped != t and stripped not in ("top",):
            tokens.append(stripped)
    return tokens


def metric_direction(name: str) -> str | None:
    """ "maximize"/"minimize" for a metric-like name, None when the name says nothing."""
    tokens = name_tokens(name)
    if "cross" in tokens and "entropy" in tokens:
        return "minimize"
    # "error rate" beats "accuracy" only when both appear; the later token usually names the quantity
    maximize = any(t in _MAX_TOKENS for t in tokens)
    minimize = any(t in _MIN_TOKENS for t in tokens)
    if maximize and not minimize:
        return "maximize"
    if minimize and not maximize:
        return "minimize"
    if maximize and minimize:
        last = next(t for t in reversed(tokens) if t in _MAX_TOKENS or t in _MIN_TOKENS)
        return "maximize" if last in _MAX_TOKENS else "minimize"
    return None


def is_metric_name(name: str) -> bool:
    return metric_direction(name) is not None


# size-knob roles
_ROLES = [
    ("dropout", re.compile(r"dropout|drop_rate|drop_prob|p_drop|drop_path", re.IGNORECASE)),
    (
        "architecture",
        re.compile(
            r"^(arch|architecture|model|model_name|model_type|backbone|network|net|"
            r"model_name_or_path|model_arch|encoder)$",
            re.IGNORECASE,
        ),
    ),
    (
        "heads",
        re.compile(
            r"(^|_)(n_?heads?|num_?heads?|nhead|heads|num_attention_heads|attention_heads)($|_)",
            re.IGNORECASE,
        ),
    ),
    (
        "depth",
        re.compile(
            r"(^|_)(n_?layers?|num_?layers?|nlayers|layers|depth|num_blocks|n_blocks|blocks|"
            r"num_hidden_layers|n_layer|num_encoder_layers|num_decoder_layers)($|_)",
            re.IGNORECASE,
        ),
    ),
    (
        "width",
        re.compile(
            r"(^|_)(hidden(_size|_dim|_units)?|nhid|n_?hidden|emsize|emb(ed)?(_size|_dim)?|d_model|"
            r"dim|width|channels|num_channels|n_?channels|filters|num_filters|units|features|"
            r"n_?embd|d_ff|dim_feedforward|intermediate_size|base_channels|width_multiplier|"
            r"hidden_layer_sizes|ngf|ndf|nz|latent_dim|z_dim|embedding_dim|feature_dim)($|_)",
            re.IGNORECASE,
        ),
    ),
]


def knob_role(dest: str) -> str | None:
    for role, pattern in _ROLES:
        if pattern.search(dest):
            return role
    return None

# activations, dropout, norms and containers: present in every architecture, so they say nothing of its class
NEUTRAL_LAYERS = {
    "ReLU",
    "GELU",
    "SiLU",
    "Tanh",
    "Sigmoid",
    "LeakyReLU",
    "ELU",
    "Softmax",
    "LogSoftmax",
    "Mish",
    "Dropout",
    "BatchNorm1d",
    "LayerNorm",
    "Sequential",
    "ModuleList",
    "ModuleDict",
    "Flatten",
    "Identity",
    "RMSNorm",
    "GroupNorm",
}
