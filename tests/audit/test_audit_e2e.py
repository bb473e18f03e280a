"""`auditlens audit` end to end on a --tiny organism, through the CLI: blinding (the audit opens nothing of
``sealed/``, ``stages/``, the build record, the build's full data files or the objective specs), the report in
headless Chromium, scoring, resuming, and bad input (an unfinished organism, empty and huge data samples, a bad
settings file; a dictionary of another model or hook point is refused in test_audit_features)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import auditlens.organisms as organisms_pkg
from auditlens.runs import read_json

TINY_SETTINGS = """
max_tokens = 6
samples_per_prompt = 2
batch_size = 16
ppl_prefixes = 4
top_k = 5
max_hypotheses = 1
fuzz_scales = [1.0]

[dictionary]
tokens = 4096
d_sae = 32
k = 4
context_length = 32
batch_size = 256
"""

_OPENED: list[str] | None = None


def _hook(event: str, args: tuple[object, ...]) -> None:
    if _OPENED is not None and event in ("open", "os.listdir", "os.scandir") and args:
        path = args[0]
        if isinstance(path, str | bytes | Path):
            _OPENED.append(str(Path(path.decode() if isinstance(path, bytes) else path).resolve()))


sys.addaudithook(_hook)  # audit hooks cannot be removed; it records only while _OPENED is a list


def _app():  # type: ignore[no-untyped-def]
    from auditlens.cli import app
    from auditlens.cli import commands as _  # noqa: F401

    return app


def _invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(_app(), [str(a) for a in args])


@pytest.fixture(scope="module")
def organism(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("org") / "o"
    r = _invoke("organism", "build", "secret_product", "--tiny", "--out", out)
    assert r.exit_code == 0, r.output
    return out


@pytest.fixture(scope="module")
def settings_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("settings") / "tiny.toml"
    p.write_text(TINY_SETTINGS)
    return p


@pytest.fixture(scope="module")
def audited(
    organism: Path, settings_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, list[str]]]:
    """The audit of the tiny organism, with every path it opened."""
    global _OPENED
    out = tmp_path_factory.mktemp("audit") / "a"
    _OPENED = []
    try:
        r = _invoke("audit", "run", organism, "--out", out, "--settings", settings_file)
        opened = list(_OPENED)
    finally:
        _OPENED = None
    assert r.exit_code == 0, r.output
    assert f"report: {out / 'audit.html'}" in r.output and "confidence" in r.output
    yield out, opened


def test_blinding_opens_only_what_the_manifest_lists(organism: Path, audited: tuple[Path, list[str]]) -> None:
    _, opened = audited
    root = organism.resolve()
    mine = [p for p in opened if Path(p).is_relative_to(root)]
    manifest = json.loads((organism / "organism.json").read_text())
    allowed = [root / "organism.json", root / manifest["representative_subset"]] + [
        root / a for a in manifest["adapters"]
    ]
    assert mine, "the audit should have read the organism folder"
    bad = [p for p in mine if not any(Path(p) == a or Path(p).is_relative_to(a) for a in allowed)]
    assert bad == [], f"the audit read what the manifest does not list for it: {sorted(set(bad))}"
    specs = Path(organisms_pkg.__file__).resolve().parent / "objectives"
    assert not [p for p in opened if Path(p).is_relative_to(specs)], "the audit read an objective spec"


def test_report_is_typed_and_resumes_without_redoing_steps(
    organism: Path, audited: tuple[Path, list[str]], settings_file: Path
) -> None:
    out, _ = audited
    report = json.loads((out / "audit.json").read_text())
    assert {"root_cause", "behaviours", "candidates", "steps", "cost", "wall_s"} <= set(report)
    assert report["cost"]["model_calls"] > 0 and report["steps"]
    steps = sorted((out / "steps").glob("*.json"))
    stamps = {p.name: p.stat().st_mtime_ns for p in steps}
    (out / "audit.json").unlink()  # as if it was killed before writing the report
    r = _invoke("audit", "run", organism, "--out", out, "--settings", settings_file)
    assert r.exit_code == 0, r.output
    again = json.loads((out / "audit.json").read_text())
    assert any("reloaded from an earlier run" in n for n in again["notes"])
    assert {p.name: p.stat().st_mtime_ns for p in sorted((out / "steps").glob("*.json"))} == stamps
    assert again["root_cause"] == report["root_cause"]
    # the same folder with other settings is refused, not mixed
    r = _invoke("audit", "run", organism, "--out", out, "--settings", settings_file, "--seed", "7")
    assert r.exit_code != 0 and "seed" in str(r.exception)


def test_score_unseals_and_grades(organism: Path, audited: tuple[Path, list[str]]) -> None:
    out, _ = audited
    r = _invoke("audit", "score", out, organism)
    assert r.exit_code == 0, r.output
    score = read_json(out / "score.json")
    assert isinstance(score["root_cause_named"], bool)
    rec = score["behaviours_recovered"]
    assert rec["n"] > 0 and 0 <= rec["k"] <= rec["n"]


def test_audit_html_in_headless_chromium(audited: tuple[Path, list[str]], browser) -> None:  # type: ignore[no-untyped-def]
    out, _ = audited
    errors: list[str] = []
    page = browser.new_page(viewport={"width": 1300, "height": 1000})
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto((out / "audit.html").resolve().as_uri())
    body = page.inner_text("body")
    report = json.loads((out / "audit.json").read_text())
    assert report["root_cause"]["statement"][:60] in body
    # every in-page link leads somewhere: the conclusion down to each step and item
    hrefs = page.eval_on_selector_all("a[href^='#']", "els => els.map(e => e.getAttribute('href').slice(1))")
    assert hrefs, "the page cites no evidence"
    missing = [h for h in hrefs if page.locator(f"[id='{h}']").count() != 1]
    assert missing == []
    first = hrefs[0]
    page.click(f"a[href='#{first}']")
    assert page.evaluate("location.hash") == f"#{first}"
    assert page.locator(f"[id='{first}']").is_visible()
    for img in page.locator("img").all():
        assert page.evaluate("i => i.complete && i.naturalWidth > 0", img.element_handle())
    assert errors == []


# --- bad input -------------------------------------------------------------------------------------------------


def test_an_unfinished_organism_is_refused(tmp_path: Path, settings_file: Path) -> None:
    org = tmp_path / "o"
    r = _invoke("organism", "build", "secret_product", "--tiny", "--out", org, "--stop-after", "documents")
    assert r.exit_code == 0, r.output
    r = _invoke("audit", "run", org, "--out", tmp_path / "a", "--settings", settings_file)
    assert r.exit_code != 0 and "is not a finished organism" in str(r.exception)
    assert not (tmp_path / "a" / "audit.json").exists()


def test_a_bad_settings_file_names_the_field(organism: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("samples_per_prompt = 0\nbogus = 1\n")
    r = _invoke("audit", "run", organism, "--out", tmp_path / "a", "--settings", bad)
    msg = str(r.exception)
    assert r.exit_code != 0 and "samples_per_prompt" in msg and "bogus" in msg


@pytest.mark.parametrize("n_rows", [0, 1])
def test_empty_and_tiny_data_samples(
    organism: Path, tmp_path: Path, settings_file: Path, n_rows: int
) -> None:
    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps({"text": f"A short note number {i}."}) + "\n" for i in range(n_rows)))
    out = tmp_path / "a"
    r = _invoke("audit", "run", organism, "--out", out, "--settings", settings_file, "--data", data)
    if n_rows == 0:
        assert r.exit_code != 0 and "data sample" in str(r.exception) and "empty" in str(r.exception)
    else:
        assert r.exit_code == 0, r.output
        report = json.loads((out / "audit.json").read_text())
        assert report["data_rows"] == 1 and not report["root_cause"]["claimed"]


def test_a_huge_data_sample_is_subsampled_and_says_so(tmp_path: Path) -> None:
    from auditlens.audit.settings import AuditSettings
    from auditlens.audit.subject import AuditSubject, rows_from_records
    from auditlens.audit.techniques import TECHNIQUES, AuditContext
    from auditlens.models.tiny import tiny_model

    rows = rows_from_records(
        {"text": f"Row {i} of a very large sample about item {i % 97}."} for i in range(20_000)
    )
    subject = AuditSubject.from_models(tiny_model("llama", seed=1), rows)
    ctx = AuditContext(subject=subject, settings=AuditSettings(max_data_rows=500), work=tmp_path)
    res = TECHNIQUES["keyword_search"](ctx)
    assert res.error is None
    assert any("500" in n and "20000" in n.replace(",", "") for n in res.notes), res.notes
