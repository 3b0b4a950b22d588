"""aimem serve-mcp / mcp-config: the MCP server, and the snippet that plugs it into a client.

``serve-mcp`` prints nothing on stdout (over stdio, stdout is the protocol); its messages
go to stderr. ``mcp`` is imported only when the server starts, so ``aimem --help`` stays
fast.
"""

from __future__ import annotations

import ipaddress
import os
import shlex
import shutil
import sys
from pathlib import Path
from typing import Annotated

import typer

from aimem import jsonio
from aimem.cli._app import app
from aimem.cli._common import warn
from aimem.errors import AimemError

SERVE_EPILOG = """Examples:

  aimem serve-mcp                                   # stdio, for Claude Desktop, Cursor, …

  aimem --db ~/notes/aimem.db serve-mcp --read-only

  aimem serve-mcp --tools all                       # every tool (about 38,000 characters of definitions)

  aimem serve-mcp --tools core,memory               # the core set and Claude's memory tool

  aimem serve-mcp --http 127.0.0.1:8765             # streamable HTTP on http://127.0.0.1:8765/mcp

  aimem mcp-config --client claude-code             # how to plug it into a client"""

CONFIG_EPILOG = """Examples:

  aimem mcp-config                                  # every client

  aimem mcp-config --client claude-desktop

  aimem --db ~/notes/aimem.db mcp-config --client vscode --read-only

  aimem mcp-config --client cursor --tools all

  eval "$(aimem mcp-config --client claude-code)"   # runs `claude mcp add …`"""

CLIENTS = ("claude-desktop", "claude-code", "cursor", "vscode")
WHERE = {
    "claude-desktop": "Claude Desktop: add to claude_desktop_config.json (macOS: ~/Library/"
                      "Application Support/Claude/, Windows: %APPDATA%\\Claude\\), then restart "
                      "Claude Desktop",
    "claude-code": "Claude Code: run this command (or put the mcpServers entry in .mcp.json)",
    "cursor": "Cursor: add to ~/.cursor/mcp.json (all projects) or .cursor/mcp.json",
    "vscode": "VS Code: add to .vscode/mcp.json (or run \"MCP: Add Server\")",
}


def parse_http(value: str) -> tuple[str, int]:
    """HOST:PORT, [IPv6]:PORT, :PORT or PORT (host 127.0.0.1)."""
    v = value.strip()
    if v.startswith("["):
        host, _, rest = v[1:].partition("]")
        port_s = rest.removeprefix(":")
    elif v.count(":") == 1 or v.isdigit():
        host, _, port_s = v.rpartition(":")
    else:
        raise typer.BadParameter(f"{value!r}: use HOST:PORT, e.g. 127.0.0.1:8765",
                                 param_hint="--http")
    host = host or "127.0.0.1"
    if not port_s.isdigit() or not 0 < int(port_s) < 65536:
        raise typer.BadParameter(f"{value!r}: the port must be a number from 1 to 65535",
                                 param_hint="--http")
    return host, int(port_s)


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@app.command("serve-mcp", epilog=SERVE_EPILOG)
def serve_mcp(
    ctx: typer.Context,
    http: Annotated[str | None, typer.Option(
        "--http", metavar="HOST:PORT", show_default=False,
        help="Serve streamable HTTP on this address (endpoint /mcp) instead of stdio. The host "
             "defaults to 127.0.0.1.")] = None,
    read_only: Annotated[bool, typer.Option(
        "--read-only", help="Offer only tools that read: nothing can be saved, changed, "
                            "deleted or imported.")] = False,
    allow_remote: Annotated[bool, typer.Option(
        "--allow-remote", help="Allow --http on an address other than loopback. There is no "
                               "authentication: anyone who can reach it can read your memory.")
    ] = False,
    tools: Annotated[str, typer.Option(
        "--tools", metavar="PROFILE|NAMES",
        help="Which tools to offer: core (a small set: search, read, recall, remember, "
             "edit_memory, forget), all (every tool, with Claude's memory tool), or tool "
             "names separated by commas (core and all may be among them).")] = "core",
) -> None:
    """Serve your memory to MCP clients (Claude Desktop, Claude Code, Cursor, VS Code, …).

    Over stdio by default: the client starts `aimem serve-mcp` itself (see aimem
    mcp-config). Every tool's definition sits in the model's context in every session,
    so the default --tools core offers six: search (ids and one-line snippets), read (an
    id, with the messages around it or a page of the conversation), recall (a
    token-budgeted context block), remember, edit_memory and forget. --tools all adds
    search_memory, search_conversations, get_memory, get_conversation, get_message,
    list_*, inject_context, get_user_profile, get_stats, export_data, save_memory,
    update_memory, delete_memory, import_data and memory (Claude's memory tool: files
    under /memories kept as aimem memories). --read-only drops every tool that writes.
    Nothing but protocol messages goes to stdout; messages go to stderr.
    """
    from aimem.paths import db_path
    from aimem.services import Archive

    chosen = check_tools(tools)
    address = parse_http(http) if http is not None else None
    if address and not is_loopback(address[0]):
        if not allow_remote:
            raise AimemError(f"--http {http}: {address[0]} is not a loopback address and the "
                             "server has no authentication; add --allow-remote if you really "
                             "want to expose your memory on the network")
        warn(f"warning: serving on {address[0]}, which is not loopback, WITHOUT authentication: "
             "anyone who can reach this port can read"
             f"{'' if read_only else ' and change'} your memory")
    db = db_path((ctx.find_root().obj or {}).get("db")).absolute()
    # a writing server may create the database; a read-only one needs an existing one
    Archive.open(db, create=not read_only).close()

    from aimem.mcp.server import serve

    serve(db, read_only=read_only, http=address, tools=chosen)


def check_tools(value: str) -> list[str]:
    """The tool names of a --tools value; an unknown name is a usage error (exit 2)."""
    from aimem.mcp.profiles import UnknownTools, resolve

    try:
        return resolve(value)
    except UnknownTools as e:
        raise typer.BadParameter(str(e), param_hint="--tools") from None


def aimem_command() -> list[str]:
    """The absolute command that starts this aimem (hosts spawn with a minimal PATH)."""
    argv0 = Path(sys.argv[0])
    if argv0.name in ("aimem", "aimem.exe") and argv0.exists():
        return [str(argv0.resolve())]
    found = shutil.which("aimem")
    if found:
        return [str(Path(found).resolve())]
    return [str(Path(sys.executable).absolute()), "-m", "aimem"]


def snippet(client: str, command: list[str], args: list[str], env: dict[str, str],
            name: str = "aimem") -> str:
    """The exact configuration for one client."""
    entry: dict[str, object] = {"command": command[0], "args": [*command[1:], *args]}
    if env:
        entry["env"] = env
    if client == "claude-code":
        env_opts = [f"--env={k}={v}" for k, v in env.items()]
        return shlex.join(["claude", "mcp", "add", "--transport", "stdio", "--scope", "user",
                           *env_opts, name, "--", *command, *args]) + "\n"
    if client == "vscode":
        doc: dict[str, object] = {"servers": {name: {"type": "stdio", **entry}}}
    else:
        doc = {"mcpServers": {name: entry}}
    return jsonio.dumps_str(doc, indent=True) + "\n"


@app.command("mcp-config", epilog=CONFIG_EPILOG)
def mcp_config(
    ctx: typer.Context,
    client: Annotated[str | None, typer.Option(
        "--client", "-c", metavar="CLIENT", show_default=False,
        help=f"Only this client: {', '.join(CLIENTS)}.")] = None,
    read_only: Annotated[bool, typer.Option(
        "--read-only", help="Configure the server with --read-only.")] = False,
    name: Annotated[str, typer.Option("--name", help="The server's name in the client.")
                    ] = "aimem",
    tools: Annotated[str | None, typer.Option(
        "--tools", metavar="PROFILE|NAMES", show_default=False,
        help="Configure the server with --tools (core, all, or tool names separated by "
             "commas); by default the server's own default, core.")] = None,
) -> None:
    """Print the configuration that makes an MCP client start aimem's server.

    It uses the absolute path of this aimem (clients start servers with a minimal PATH)
    and the global --db, if given. With --client it prints only that client's snippet,
    ready to paste (for claude-code: the `claude mcp add` command).
    """
    if client is not None and client not in CLIENTS:
        raise typer.BadParameter(f"{client!r}: use one of {', '.join(CLIENTS)}",
                                 param_hint="--client")
    if tools is not None:
        check_tools(tools)
    args: list[str] = []
    db = (ctx.find_root().obj or {}).get("db")
    if db:
        args += ["--db", str(Path(db).expanduser().absolute())]
    args.append("serve-mcp")
    if read_only:
        args.append("--read-only")
    if tools is not None:
        args += ["--tools", tools]
    env = {} if db else {k: str(Path(os.environ[k]).expanduser().absolute())
                         for k in ("AIMEM_DB", "AIMEM_HOME") if os.environ.get(k)}
    command = aimem_command()
    if client:
        sys.stdout.write(snippet(client, command, args, env, name))
        return
    for i, c in enumerate(CLIENTS):
        sys.stdout.write(("\n" if i else "") + f"# {WHERE[c]}\n" + snippet(c, command, args, env,
                                                                        name))
