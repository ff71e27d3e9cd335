from .resnet import ResNet8

__all__ = ["ResNet8"]
