"""PAISequential and ResNet rebuilds on a small torchvision-style ResNet built here (no torchvision)."""
import pytest
import torch
from torch import nn

from pai_core.blocks import PAISequential, ResNetPAI, ResNetPAIPreFC
from pai_core.config import PAIConfig
from pai_core.modules import PAINeuronModule, TrackedNeuronModule, neuron_modules, prepare_to_load
from pai_core.perforate import convert_network

torch.set_num_threads(1)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + identity)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1):
        super().__init__()
        width = planes
        self.conv1 = nn.Conv2d(inplanes, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or inplanes != planes * 4:
            self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes * 4, 1, stride, bias=False),
                                            nn.BatchNorm2d(planes * 4))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.relu(self.bn3(self.conv3(out)) + identity)


class ResNet(nn.Module):
    """Same attribute names and forward as torchvision.models.ResNet, tiny widths."""

    def __init__(self, block, layers, num_classes=5):
        super().__init__()
        self.inplanes = 8
        self.conv1 = nn.Conv2d(3, 8, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(block, 8, layers[0])
        self.layer2 = self._make_layer(block, 16, layers[1], 2)
        self.layer3 = self._make_layer(block, 16, layers[2], 2)
        self.layer4 = self._make_layer(block, 16, layers[3], 2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(16 * block.expansion, num_classes)

    def _make_layer(self, block, planes, blocks, stride=1):
        layers = [block(self.inplanes, planes, stride)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def test_pai_sequential_forwards_and_names_inner_model():
    seq = PAISequential([nn.Linear(3, 4), nn.LayerNorm(4)])
    assert isinstance(seq, nn.Sequential) and list(seq.state_dict()) == [
        "model.0.weight", "model.0.bias", "model.1.weight", "model.1.bias"]
    x = torch.randn(2, 3)
    assert torch.equal(seq(x), seq.model[1](seq.model[0](x)))
    wrapped = convert_network(nn.Sequential(seq), PAIConfig())
    assert isinstance(wrapped[0], PAINeuronModule) and "0.main_module.model.0.weight" in wrapped.state_dict()
    assert wrapped[0].output_dimensions == [-1, 0]


@pytest.mark.parametrize("block, layers", [(BasicBlock, [1, 1, 1, 1]), (Bottleneck, [1, 1, 1, 1])])
def test_resnet_pai_same_function_and_whole_blocks_perforated(block, layers):
    torch.manual_seed(0)
    resnet = ResNet(block, layers).eval()
    x = torch.randn(2, 3, 32, 32)
    reference = resnet(x)
    config = PAIConfig(modules_to_replace=[ResNet], replacement_modules=[ResNetPAI],
                       module_names_to_perforate=["PAISequential", "Linear", block.__name__],
                       unwrapped_params_action="raise")
    model = convert_network(resnet, config).eval()
    assert isinstance(model, ResNetPAI)
    assert torch.allclose(model(x), reference, atol=1e-6)
    ids = sorted(m.name for m in neuron_modules(model))
    assert ids == [".b1", ".fc", ".layer1.0", ".layer2.0", ".layer3.0", ".layer4.0"]
    before = model(x)
    for m in neuron_modules(model):
        m.add_dendrite()
    assert torch.equal(model(x), before)
    assert model.layer2[0].out_channels == 16 * block.expansion


def test_resnet_blocks_train_and_state_dict_round_trip():
    torch.manual_seed(1)
    config = PAIConfig(modules_to_replace=[ResNet], replacement_modules=[ResNetPAI],
                       module_names_to_perforate=["PAISequential", "Linear", "BasicBlock"])
    model = convert_network(ResNet(BasicBlock, [2, 1, 1, 1]), config)
    x, y = torch.randn(4, 3, 32, 32), torch.randint(0, 5, (4,))
    model(x)
    for m in neuron_modules(model):
        m.add_dendrite()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    assert model.layer1[1].dendrite_module.layers[0].conv1.weight.grad.abs().sum() > 0
    model.eval()
    fresh = convert_network(ResNet(BasicBlock, [2, 1, 1, 1]), config.copy()).eval()
    fresh.load_state_dict(prepare_to_load(fresh, model.state_dict()))
    assert torch.equal(fresh(x), model(x))


def test_resnet_pre_fc_adds_a_square_layer():
    resnet = ResNet(BasicBlock, [1, 1, 1, 1])
    model = ResNetPAIPreFC(resnet)
    assert model.pre_fc.in_features == model.pre_fc.out_features == 16
    assert model.conv1 is resnet.conv1 and model(torch.randn(2, 3, 32, 32)).shape == (2, 5)


def test_resnet_pai_rejects_non_resnets():
    with pytest.raises(TypeError, match="lacks"):
        ResNetPAI(nn.Linear(2, 2))


def test_norm_layers_tracked_by_name_inside_resnet():
    config = PAIConfig(module_names_to_track=["BatchNorm2d"], unwrapped_params_action="raise")
    model = convert_network(ResNet(BasicBlock, [1, 1, 1, 1]), config)
    assert isinstance(model.bn1, TrackedNeuronModule) and isinstance(model.layer1[0].conv1, PAINeuronModule)
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 5)
