"""`python -m mcp_server.cli`: the `pai` command."""

from mcp_server.cli import main

raise SystemExit(main())
