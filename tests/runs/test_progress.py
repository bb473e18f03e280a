"""Bars can be silenced by a context, an environment variable or per bar; messages go through logging."""

from __future__ import annotations

import logging

import pytest

from auditlens.runs import bar, cli_logging, progress_enabled, quiet


def test_quiet_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    assert progress_enabled()
    with quiet():
        assert not progress_enabled() and bar(range(3)).disable
    assert not bar(range(3)).disable
    assert bar(range(3), enabled=False).disable
    monkeypatch.setenv("AUDITLENS_PROGRESS", "0")
    assert not progress_enabled()


def test_cli_logging_writes_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    cli_logging()
    cli_logging()  # idempotent: one handler
    logging.getLogger("auditlens.test").info("hello")
    assert capsys.readouterr().err.count("hello") == 1
