"""The tools of ``aimem serve-mcp``, each defined once: a function whose first parameter
is the :class:`~aimem.mcp.backend.Backend` and whose other parameters are the tool's
input, decorated with :func:`~aimem.mcp.backend.tool`. Importing this package records
them all in ``backend.TOOLS``; :func:`aimem.mcp.server.build_server` registers those of
the chosen profile.

- :mod:`.reads` and :mod:`.writes`: the detailed tools of aimem 1.x (``--tools all``);
- :mod:`.core`: the lean default profile, ``related`` and Claude's ``memory`` tool.
"""

from aimem.mcp.tools import core, reads, writes

__all__ = ["core", "reads", "writes"]
