"""`pai demo`: the whole story on a bundled digits script, from a plain PyTorch loop to analyzed dendrite results.

`story` holds the steps (copy, analyze, perforate, train, analyze the run); `cli` narrates them. The bundled
`baseline_digits.py` is package data, read with importlib.resources and never imported.
"""
