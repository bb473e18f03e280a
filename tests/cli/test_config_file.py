"""``--config FILE``: options from TOML, flags override, required options may come from the file, bad names fail."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from auditlens.cli import app as auditlens_app
from auditlens.cli import commands  # noqa: F401  (registers the verbs)
from auditlens.cli.config_file import CONFIG
from auditlens.errors import ConfigError

demo = typer.Typer()
sub = typer.Typer()
demo.add_typer(sub, name="group")


@demo.callback()
def _root() -> None:
    """Demo app."""


@demo.command()
def show(
    out: Path = typer.Option(..., "--out"),
    tokens: int = typer.Option(10),
    hook_point: list[str] = typer.Option(["a"], "--hook-point"),
    flag: bool = typer.Option(False),
    config: Path | None = CONFIG,
) -> None:
    typer.echo(json.dumps({"out": str(out), "tokens": tokens, "hook_point": hook_point, "flag": flag}))


@sub.command("inner")
def inner(steps: int = typer.Option(1), config: Path | None = CONFIG) -> None:
    typer.echo(json.dumps({"steps": steps}))


def _run(tmp_path: Path, toml: str, *args: str) -> dict:
    f = tmp_path / "c.toml"
    f.write_text(toml)
    res = CliRunner().invoke(demo, [*args, "--config", str(f)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def test_file_values_become_defaults_and_flags_win(tmp_path: Path) -> None:
    toml = 'out = "o"\ntokens = 500\nhook-point = ["x", "y"]\nflag = true\n'
    assert _run(tmp_path, toml, "show") == {"out": "o", "tokens": 500, "hook_point": ["x", "y"], "flag": True}
    got = _run(tmp_path, toml, "show", "--tokens", "7", "--hook-point", "z", "--no-flag")
    assert got == {"out": "o", "tokens": 7, "hook_point": ["z"], "flag": False}


def test_the_commands_own_table_is_used(tmp_path: Path) -> None:
    toml = '[show]\nout = "s"\n\n[group.inner]\nsteps = 9\n'
    assert _run(tmp_path, toml, "show")["out"] == "s"
    assert _run(tmp_path, toml, "group", "inner") == {"steps": 9}


def test_values_are_checked_like_flags(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text('out = "o"\ntokens = "many"\n')
    res = CliRunner().invoke(demo, ["show", "--config", str(f)])
    assert res.exit_code == 2 and "tokens" in res.output


def test_unknown_option_names_the_known_ones(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text('out = "o"\ntoken = 5\n')
    res = CliRunner().invoke(demo, ["show", "--config", str(f)])
    assert isinstance(res.exception, ConfigError)
    assert "'token' is not an option" in res.exception.message and "tokens" in str(res.exception.hint)


def test_bad_toml_is_a_config_error(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text("out = \n")
    res = CliRunner().invoke(demo, ["show", "--config", str(f)])
    assert isinstance(res.exception, ConfigError) and "not valid TOML" in res.exception.message


def test_every_verb_takes_config() -> None:
    root = typer.main.get_command(auditlens_app)

    def leaves(group: Any, path: str) -> list[tuple[str, Any]]:
        out = []
        for name, cmd in group.commands.items():
            if hasattr(cmd, "commands"):  # a group
                out += leaves(cmd, f"{path} {name}")
            else:
                out.append((f"{path} {name}", cmd))
        return out

    with_options = [(p, {q.name for q in cmd.params}) for p, cmd in leaves(root, "auditlens")]
    missing = [p for p, names in with_options if names - {"help"} and "config" not in names]
    assert not missing, f"verbs without --config: {missing}"


@pytest.mark.parametrize("flag_tokens", [None, "600"])
def test_harvest_from_a_config_file(tmp_path: Path, flag_tokens: str | None) -> None:
    from auditlens.activations import ActivationStore
    from auditlens.models.tiny import tiny_model

    hm = tiny_model("llama", n_layers=2)
    model = tmp_path / "model"
    hm.model.save_pretrained(model)
    hm.tokenizer.save_pretrained(model)
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(" ".join(f"w{i % 37}" for i in range(3000)))
    f = tmp_path / "harvest.toml"
    f.write_text(
        f'[harvest]\nout = "{tmp_path / "store"}"\nmodel = "{model}"\nsource = "{corpus}"\n'
        'hook-point = ["blocks.1.resid_post"]\ntokens = 256\ncontext-length = 16\n'
    )
    args = ["harvest", "--config", str(f)] + (["--tokens", flag_tokens] if flag_tokens else [])
    res = CliRunner().invoke(auditlens_app, args, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    store = ActivationStore.open(tmp_path / "store")
    assert store.hook_points == ["blocks.1.resid_post"]
    assert store.manifest.context_length == 16
    assert store.manifest.config["tokens"] == int(flag_tokens or 256)
