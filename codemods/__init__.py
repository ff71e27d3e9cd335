"""libcst analysis and rewrites of a user's training script (never imports torch).

Import-light on purpose: subpackages (`codemods.analysis`, `codemods.rules`, `codemods.diagnosis`) are
imported by name when used.
"""
