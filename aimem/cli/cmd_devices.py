"""aimem devices: this device and the others it syncs with."""

from __future__ import annotations

import typer

from aimem.cli._app import app
from aimem.cli._common import JsonOpt, console, open_memory, print_json

EPILOG = """Examples:

  aimem devices

  aimem devices --json | jq '.devices[].last_seen'"""


@app.command(epilog=EPILOG)
def devices(ctx: typer.Context, json: JsonOpt = False) -> None:
    """This device's id and name, the sync location, and the devices seen there.

    For each other device: when its log was last read, how many of its records were
    read, and how far into each of its log files (bytes).
    """
    with open_memory(ctx, create=False) as mem:
        d = mem.devices()
    if json:
        print_json(d)
        return
    con = console()
    con.print(f"this device: {d['name']} ({d['id']})", markup=False, highlight=False)
    con.print(f"sync location: {d['target'] or 'none (aimem sync --to FOLDER|git+URL)'}",
              markup=False, highlight=False)
    if d["tombstones"]:
        con.print(f"forgotten items remembered as such: {d['tombstones']}", markup=False)
    if not d["devices"]:
        con.print("no other device seen yet", markup=False)
        return
    from rich.table import Table

    t = Table("device", "name", "last seen", "records", "read up to", box=None,
              header_style="bold dim")
    for dev in d["devices"]:
        pos = ", ".join(f"{f} @{n}" for f, n in sorted(dev["positions"].items())[-2:])
        t.add_row(dev["id"], dev["name"] or "", (dev["last_seen"] or "").replace("T", " "),
                  str(dev["records"]), pos)
    con.print(t)
