"""`pai demo`: the whole story on a bundled digits script, from a plain PyTorch loop to analyzed dendrite results.

`story` holds the steps (copy, analyze, perforate, train, analyze the run); `cli` narrates them. The bundled
`baseline_digits.py.txt` is package data (a plain PyTorch script, stored as text so it is never imported or
mistaken for server code), read with importlib.resources.
"""
