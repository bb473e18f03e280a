"""``--config FILE``: every verb's options from a TOML file, with flags given on the command line overriding it.

The file names options as ``--help`` does (``tokens = 300000``, ``hook-point = ["blocks.9.resid_post"]``;
dashes or underscores). It may hold the options of one command at its top level, or of several in tables
named by the command's path, of which the command's own is used::

    [harvest]
    out = "runs/store"
    tokens = 2_000_000

    [organism.build]
    tiny = true

Values become the command's defaults (click's ``default_map``), so they are converted and checked exactly as
flags are, a required option may come from the file, and any flag typed on the command line wins. An unknown
name is an error that lists the command's options.

Every verb takes the option as its last parameter: ``config: Path | None = CONFIG``.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import typer

from auditlens.errors import ConfigError

__all__ = ["CONFIG", "load_config_file"]


def _section(data: dict[str, Any], path: list[str]) -> dict[str, Any]:
    """The table of ``path`` (e.g. ['organism', 'build']) when the file has one, else the file's top level."""
    node: Any = data
    for part in path:
        if not isinstance(node, dict) or not isinstance(node.get(part), dict):
            return data
        node = node[part]
    return node


def load_config_file(ctx: typer.Context, param: typer.CallbackParam, value: Path | None) -> Path | None:
    """Eager callback of ``--config``: read the file into the command's defaults before any other option."""
    if value is None or ctx.resilient_parsing:
        return value
    try:
        data = tomllib.loads(Path(value).read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"cannot read config file {value}: {e}", hint="check the path") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"config file {value} is not valid TOML: {e}", hint="see https://toml.io") from e
    section = _section(data, ctx.command_path.split()[1:])
    options = {p.name: p for p in ctx.command.params if p.name and p.name != param.name}
    defaults: dict[str, Any] = {}
    for key, v in section.items():
        name = key.replace("-", "_")
        if name not in options:
            if isinstance(v, dict):  # another command's table
                continue
            known = ", ".join(sorted(n.replace("_", "-") for n in options))
            raise ConfigError(
                f"config file {value}: {key!r} is not an option of `{ctx.command_path}`",
                hint=f"its options are: {known}",
            )
        defaults[name] = v
    ctx.default_map = {**(ctx.default_map or {}), **defaults}
    return value


CONFIG: Any = typer.Option(
    None,
    "--config",
    help="TOML file of this command's options (names as in --help); options given as flags override it.",
    callback=load_config_file,
    is_eager=True,
    exists=True,
    dir_okay=False,
)
