"""What the model's own classes really build, beyond `nn.Linear(...)` calls the model analysis reads directly.

- layer classes picked at run time: `getattr(nn, rnn_type)(...)`, `(nn.LSTM if cell == "LSTM" else nn.GRU)(...)`
  or a name bound to such an expression: every class it can be is a layer the config must cover;
- the user's own weight layers: a module class that creates its weight matrices itself
  (`self.weight = nn.Parameter(torch.empty(n_in, n_out))`) and builds no torch.nn layer, as a GCN's
  `GraphConvolution`; perforating torch.nn classes alone would give such a model no dendrites;
- the rank of such a layer's output, read from the products in its `forward` (`torch.mm` is 2-D);
- the stem of a ResNet written by hand: the convolutions and norms its top class owns outside the blocks.
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from codemods.analysis.facts import CallFact, Facts
from codemods.analysis.vocab import CONV, LAYER_KINDS

__all__ = ["output_rank", "runtime_kinds", "stem_ids", "weight_layer"]

# `getattr(nn, rnn_type)`: the strings a script may pass, and the class each one builds
_RECURRENT_NAMES = {"LSTM": "LSTM", "GRU": "GRU", "RNN": "RNN", "RNN_TANH": "RNN", "RNN_RELU": "RNN"}
_NORMS = {k for k in LAYER_KINDS if "Norm" in k}
_TWO_D_PRODUCTS = {"torch.mm", "torch.spmm", "torch.sparse.mm", "torch.addmm"}
_THREE_D_PRODUCTS = {"torch.bmm", "torch.baddbmm"}


def runtime_kinds(call: CallFact, facts: Facts, all_facts: list[Facts]) -> list[str]:
    """The torch.nn classes a call builds when the class itself is chosen at run time (else [])."""
    func = call.node.func
    if isinstance(func, cst.Name):  # `cls = nn.LSTM if ... else nn.GRU` earlier, then `cls(...)`
        bound = [a.value for a in facts.assigns if func.value in a.target_names and a.function == call.function
                 and not isinstance(a.value, cst.Call)]
        func = bound[-1] if bound else func
    if m.matches(func, m.Call(func=m.Name("getattr"), args=[m.Arg(), m.Arg()])):
        module = facts.resolve(facts.code(func.args[0].value))  # type: ignore[attr-defined]
        if module not in ("torch.nn", "nn"):
            return []
        name = func.args[1].value  # type: ignore[attr-defined]
        if isinstance(name, cst.SimpleString) and isinstance(name.evaluated_value, str):
            return [name.evaluated_value]
        return _recurrent_choices(all_facts)
    if isinstance(func, (cst.IfExp, cst.Subscript)):  # a conditional or a {"LSTM": nn.LSTM, ...}[name] lookup
        kinds = [facts.resolve(facts.code(a)).rsplit(".", 1)[-1] for a in m.findall(func, m.Attribute())
                 if facts.resolve(facts.code(a)).startswith("torch.nn.")]
        return list(dict.fromkeys(k for k in kinds if k in LAYER_KINDS))
    return []


def _recurrent_choices(all_facts: list[Facts]) -> list[str]:
    """The recurrent classes the strings of the script and its modules name (`choices=["LSTM", "GRU"]`), else
    every one of them: a class named by a variable may be any the user passes."""
    named = [_RECURRENT_NAMES[s.evaluated_value] for f in all_facts for s in m.findall(f.module, m.SimpleString())
             if isinstance(s.evaluated_value, str) and s.evaluated_value in _RECURRENT_NAMES]
    return list(dict.fromkeys(named)) or ["LSTM", "GRU", "RNN"]


def weight_layer(name: str, facts: Facts, builds_layers: bool) -> bool:
    """Whether class `name` is a layer of the user's own: it creates a weight matrix (a Parameter of two or
    more dimensions, not a per-channel scale) and builds no torch.nn layer or other module class."""
    if builds_layers:
        return False
    for call in facts.calls:
        if call.cls != name or not call.target or not call.target.startswith("self."):
            continue
        if call.qname in ("torch.nn.Parameter", "torch.nn.parameter.Parameter") and call.node.args:
            shape = call.node.args[0].value
            if isinstance(shape, cst.Call) and len([a for a in shape.args if a.keyword is None]) >= 2:
                return True
    return False


def output_rank(name: str, facts: Facts) -> int | None:
    """The rank of what class `name`'s forward returns when a matrix product makes it: 2 for `torch.mm`
    (a graph layer on one graph's node matrix), 3 for `torch.bmm` (batched graphs), read on the returned
    expression or the last assignment of the variable it returns; None when unknown (reshaped afterwards)."""
    forward = facts.function(f"{name}.forward")
    if forward is None:
        return None
    products = {c.line: c.qname for c in facts.calls if c.function == forward.qualname
                and c.qname in _TWO_D_PRODUCTS | _THREE_D_PRODUCTS}
    ranks = set()
    for line, text, _ in forward.returns:
        head = text.split("+", 1)[0].strip()
        source = max((a.line for a in facts.assigns if a.function == forward.qualname and head in a.target_names
                      and a.line < line), default=None) if head.isidentifier() else None
        made = products.get(line) or products.get(source)
        ranks.add(None if made is None else 2 if made in _TWO_D_PRODUCTS else 3)
    return ranks.pop() if len(ranks) == 1 else None


def stem_ids(layers, top: str) -> list[str]:
    """Module ids of the convolutions and norms the top class owns itself (its stem): outside the residual
    blocks that are perforated whole, they are tracked. `self.stem = nn.Sequential(...)` is `.stem`."""
    ids = [f".{layer.attribute}" for layer in layers
           if layer.owner == top and layer.attribute and layer.kind in CONV | _NORMS
           and "." not in layer.attribute and "[" not in layer.attribute]
    return list(dict.fromkeys(ids))

