"""``aimem serve-mcp``: the same memory for every MCP client (Claude Desktop, Claude Code,
Cursor, VS Code, …), built on the official ``mcp`` SDK (2.x, ``MCPServer``).

A thin front end over :class:`aimem.services.Archive`, in these modules:

- :mod:`~aimem.mcp.profiles`: the tool names and the ``--tools`` profiles (no ``mcp``
  import: the command line checks names with it);
- :mod:`~aimem.mcp.server`: ``build_server`` and ``serve``, the instructions, resources
  and prompt;
- :mod:`~aimem.mcp.backend`: what every tool shares (the database, per call) and the
  ``tool`` decorator that records each tool for ``build_server``;
- :mod:`~aimem.mcp.args` and :mod:`~aimem.mcp.models`: the tools' input types and result
  models (their schemas are what clients see);
- :mod:`~aimem.mcp.tools`: the tools themselves, each defined once.

Only ``aimem serve-mcp`` imports ``mcp`` (heavy): this package's ``__init__`` and
``profiles`` import nothing of it.
"""
