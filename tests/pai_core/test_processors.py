"""Multi-output modules through processors: recurrent layers and a stateful (output, state, record) module."""
import copy

import pytest
import torch
from torch import nn

from pai_core.config import PAIConfig
from pai_core.errors import ProcessorError, TupleOutputError
from pai_core.modules import neuron_modules
from pai_core.perforate import convert_network
from pai_core.processors import (
    GRUProcessor,
    LSTMCellProcessor,
    LSTMProcessor,
    LSTMProcessorLastHidden,
    MultiOutputProcessor,
    PAIProcessor,
)

torch.set_num_threads(1)


def convert(model, **options):
    options.setdefault("unwrapped_params_action", "ignore")
    return convert_network(model, PAIConfig(**options))


def grow(model, k=1):
    for m in neuron_modules(model):
        for _ in range(k):
            m.add_dendrite()


def randomise_dendrite_weights(model):
    with torch.no_grad():
        for m in neuron_modules(model):
            m.dendrites_to_top.normal_()


class SpikingLayer(nn.Module):
    """Rockpool-style stateful module: returns (output, new_state, record)."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_in, n_out) * 0.3)
        self.tau = nn.Parameter(torch.full((n_out,), 0.9))

    def forward(self, x):  # x: (batch, time, n_in)
        v = torch.zeros(x.shape[0], self.weight.shape[1])
        outs = []
        for t in range(x.shape[1]):
            v = self.tau * v + x[:, t] @ self.weight
            outs.append(torch.sigmoid(v))
        out = torch.stack(outs, 1)
        return out, {"vmem": v}, {"vmem_trace": out.detach()}


class SNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.spk = SpikingLayer(3, 5)
        self.readout = nn.Linear(5, 2)

    def forward(self, x):
        out, state, record = self.spk(x)
        return self.readout(out[:, -1]), state, record


def test_tuple_output_without_processor_names_the_fix():
    model = convert(SNN(), module_names_to_perforate=["SpikingLayer"], output_dimensions=[-1, -1, 0])
    with pytest.raises(TupleOutputError) as info:
        model(torch.randn(2, 4, 3))
    text = str(info.value)
    assert "'.spk'" in text and "MultiOutputProcessor" in text and "append_modules_with_processing" in text
    assert isinstance(info.value, TypeError)


def test_stateful_module_with_multi_output_processor_grows_and_trains():
    torch.manual_seed(0)
    model = convert(SNN(), module_names_to_perforate=["SpikingLayer", "Linear"], output_dimensions=[-1, -1, 0],
                    module_names_with_processing=["SpikingLayer"],
                    module_by_name_processing_classes=[MultiOutputProcessor])
    model.readout.set_this_output_dimensions([-1, 0])
    x = torch.randn(4, 6, 3)
    before, state, record = model(x)
    assert set(state) == {"vmem"} and set(record) == {"vmem_trace"}
    grow(model, 2)
    after, state2, _ = model(x)
    assert torch.equal(after, before) and torch.equal(state2["vmem"], state["vmem"])
    assert model.spk.out_channels == 5
    randomise_dendrite_weights(model)
    changed, _, _ = model(x)
    assert not torch.allclose(changed, before)
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    y = torch.randint(0, 2, (4,))
    first = None
    for _ in range(30):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x)[0], y)
        loss.backward()
        opt.step()
        first = first if first is not None else loss.item()
    assert loss.item() < first
    assert model.spk.dendrite_module.layers[0].weight.grad.abs().sum() > 0
    copy.deepcopy(model)  # stashed tensors never travel into copies


class SeqLSTM(nn.Module):
    def __init__(self, cls):
        super().__init__()
        self.rnn = cls(4, 6, batch_first=True, num_layers=2)
        self.head = nn.Linear(6, 3)

    def forward(self, x):
        out, hidden = self.rnn(x)
        return self.head(out[:, -1]), hidden


@pytest.mark.parametrize("cls, processor", [(nn.LSTM, LSTMProcessor), (nn.GRU, GRUProcessor)])
def test_lstm_and_gru_processors_combine_on_the_sequence_output(cls, processor):
    torch.manual_seed(1)
    model = convert(SeqLSTM(cls), module_names_to_perforate=[cls.__name__, "Linear"],
                    modules_with_processing=[cls], modules_processing_classes=[processor])
    model.rnn.set_this_output_dimensions([-1, -1, 0])
    x = torch.randn(2, 5, 4)
    before, hidden = model(x)
    grow(model, 2)
    after, hidden2 = model(x)
    assert torch.equal(after, before)
    flat = lambda h: h if isinstance(h, torch.Tensor) else torch.cat([t.flatten() for t in h])
    assert torch.equal(flat(hidden), flat(hidden2))
    randomise_dendrite_weights(model)
    out = model(x)[0]
    out.sum().backward()
    assert model.rnn.dendrites_to_top.grad is not None
    assert model.rnn.out_channels == 6


@pytest.mark.parametrize("cls", [nn.LSTM, nn.GRU])
def test_last_hidden_processor_uses_h_n_of_the_last_layer(cls):
    torch.manual_seed(2)
    holder = nn.Sequential(cls(4, 6, num_layers=2, batch_first=True))
    reference = copy.deepcopy(holder[0])
    model = convert(holder, module_names_to_perforate=[cls.__name__], modules_with_processing=[cls],
                    modules_processing_classes=[LSTMProcessorLastHidden], output_dimensions=[-1, 0])
    x = torch.randn(3, 5, 4)
    none, combined = model(x)
    _, hidden = reference(x)
    h_n = hidden[0] if cls is nn.LSTM else hidden
    assert none is None and torch.equal(combined, h_n[-1])  # h_n, not c_n
    grow(model)
    assert torch.equal(model(x)[1], combined)


def test_lstm_cell_processor_keeps_each_dendrite_state():
    torch.manual_seed(3)

    class CellNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.cell = nn.LSTMCell(3, 5)
            self.head = nn.Linear(5, 2)

        def forward(self, xs):
            h = torch.zeros(xs.shape[0], 5)
            c = torch.zeros(xs.shape[0], 5)
            for t in range(xs.shape[1]):
                h, c = self.cell(xs[:, t], (h, c))
            return self.head(h)

    model = convert(CellNet(), module_names_to_perforate=["LSTMCell", "Linear"],
                    modules_with_processing=[nn.LSTMCell], modules_processing_classes=[LSTMCellProcessor],
                    output_dimensions=[-1, 0])
    x = torch.randn(2, 4, 3)
    before = model(x)
    grow(model, 2)
    assert torch.equal(model(x), before)
    randomise_dendrite_weights(model)
    cell = model.cell
    processors = cell.dendrite_module.processors
    assert len(processors) == 2 and all(isinstance(p, LSTMCellProcessor) for p in processors)
    model(x).sum().backward()
    assert cell.dendrite_module.layers[1].weight_ih.grad.abs().sum() > 0
    assert processors[0].state is not None and processors[0].state[0].shape == (2, 5)
    cell.clear_processors()
    assert processors[0].state is None and cell.processor.c is None


def test_processor_returning_a_tuple_is_reported():
    class Bad(MultiOutputProcessor):
        def post_n1(self, output):
            return output

    holder = nn.Sequential(nn.LSTM(2, 3))
    model = convert(holder, module_names_to_perforate=["LSTM"], modules_with_processing=[nn.LSTM],
                    modules_processing_classes=[Bad], output_dimensions=[-1, -1, 0])
    with pytest.raises(ProcessorError, match=r"Bad\.post_n1 .* must return the single tensor"):
        model(torch.randn(4, 1, 2))


def test_processor_is_abstract():
    with pytest.raises(TypeError):
        PAIProcessor()
