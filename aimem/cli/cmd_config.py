"""aimem config set / unset / show: aimem's settings for this database (embed-model)."""

from __future__ import annotations

from typing import Annotated

import typer

from aimem.cli._app import app
from aimem.cli._common import JsonOpt, err_console, open_memory, print_json

EPILOG = """Examples:

  aimem config set embed-model aimem-minilm

  aimem config show --json

  aimem config unset embed-model"""

config_app = typer.Typer(help="aimem's settings for this database (embed-model).",
                         no_args_is_help=True, epilog=EPILOG)
app.add_typer(config_app, name="config")


@config_app.command("set", epilog=EPILOG)
def config_set(ctx: typer.Context,
               key: Annotated[str, typer.Argument(help="The setting: embed-model.")],
               value: Annotated[str, typer.Argument(help="Its value (an llm embedding model "
                                                    "id or alias).")]) -> None:
    """Set a setting (stored in the database, next to the vectors it describes)."""
    with open_memory(ctx, create=True) as mem:
        stored = mem.set_config(key, value)
    err_console().print(f"{key} = {stored}")


@config_app.command("unset", epilog=EPILOG)
def config_unset(ctx: typer.Context,
                 key: Annotated[str, typer.Argument(help="The setting: embed-model.")]) -> None:
    """Remove a setting (the stored vectors stay)."""
    with open_memory(ctx, create=False) as mem:
        mem.set_config(key, None)


@config_app.command("show", epilog=EPILOG)
def config_show(ctx: typer.Context, json: JsonOpt = False) -> None:
    """The settings, and how many vectors each embedding model has."""
    import os

    with open_memory(ctx, create=False) as mem:
        out = {"settings": mem.get_config(), "vectors": mem.embedding_stats()}
    env = os.environ.get("AIMEM_EMBED_MODEL")
    if env:
        out["settings"]["embed-model (from AIMEM_EMBED_MODEL)"] = env
    if json:
        print_json(out)
        return
    for k, v in out["settings"].items():
        print(f"{k} = {v}")
    for row in out["vectors"]:
        print(f"vectors: {row['model']} {row['kind']}: {row['vectors']}")
