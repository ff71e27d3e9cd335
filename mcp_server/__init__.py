"""Adapters over pai_core and codemods: the `pai` command line and the MCP server.

Kept import-light on purpose: nothing here imports torch, libcst or the mcp SDK at import time.
"""
