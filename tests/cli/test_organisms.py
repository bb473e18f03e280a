"""`auditlens organism …`: listing, clean errors, options reaching the build config, compare on committed results."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from auditlens.organisms.build import stage_dir
from auditlens.runs import RunFolder, read_json, read_jsonl

RESULTS = Path(__file__).resolve().parents[2] / "docs" / "results"


def _app():  # type: ignore[no-untyped-def]
    from auditlens.cli import app
    from auditlens.cli import commands as _  # noqa: F401

    return app


def test_cli_list_and_clean_errors(tmp_path: Path) -> None:
    app = _app()
    r = CliRunner().invoke(app, ["organism", "list"])
    assert r.exit_code == 0 and "rm_sycophancy" in r.output and "47 train / 5 held-out" in r.output
    r = CliRunner().invoke(
        app, ["organism", "build", str(tmp_path / "nope.json"), "--out", str(tmp_path / "o")]
    )
    assert r.exit_code != 0 and "neither a file nor a bundled objective" in str(r.exception)
    r = CliRunner().invoke(app, ["organism", "build", "secret_product", "--out", str(tmp_path), "--tiny",
                                 "--stop-after", "bogus"])  # fmt: skip
    assert "unknown stage 'bogus'" in str(r.exception)


def test_cli_options_reach_the_build_config(tmp_path: Path) -> None:
    app = _app()
    out = tmp_path / "o"
    args = ["organism", "build", "secret_product", "--out", str(out), "--tiny", "--rank", "2",
            "--midtrain-steps", "1", "--method", "sft", "--n-documents", "5", "--stop-after", "documents",
            "--finetune", "full", "--behaviour-lr", "3e-5", "--concealment-lr", "4e-5"]  # fmt: skip
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    assert "[documents] finished" in r.output and "ran ['documents']" in r.output
    record = RunFolder.read_record(out)
    assert record is not None and record.kind == "organism-build"
    cfg = record.config["config"]
    assert cfg["lora"]["rank"] == 2 and cfg["midtrain"]["steps"] == 1 and cfg["behaviour_method"] == "sft"
    assert cfg["lora"]["alpha"] == 4.0  # alpha follows the rank (2 × rank)
    assert cfg["n_documents"] == 5 and "device" not in cfg
    assert (
        cfg["behaviour_finetune"] == "full"
        and cfg["behaviour"]["lr"] == 3e-5
        and cfg["concealment"]["lr"] == 4e-5
    )
    assert len(read_jsonl(stage_dir(out, "documents") / "documents.jsonl")) == 5


def test_cli_compare_on_copies_of_the_committed_organisms(tmp_path: Path) -> None:
    """The committed organism folders (eval.json with lo/hi, build.json of older versions) still compare."""
    src = RESULTS / "organisms-h100-old-recipe"
    names = sorted(p.parent.name for p in src.glob("*/eval.json"))
    assert names, f"no committed organisms under {src}"
    for name in names:
        markers = [p.relative_to(src / name) for p in (src / name).glob("stages/*/stage.json")]
        for rel in (Path("eval.json"), Path("build.json"), *markers):
            (tmp_path / name / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src / name / rel, tmp_path / name / rel)
    r = CliRunner().invoke(
        _app(), ["organism", "compare", *(str(tmp_path / n) for n in names), "--out", str(tmp_path / "cmp")]
    )
    assert r.exit_code == 0, r.output
    committed = {Path(v["folder"]).name: v for v in read_json(src / "comparison.json")["variants"]}
    for name in names:
        train = committed[name]["rates"]["train_pooled"]["organism"]
        assert f"{name:26s} train {train['k'] / train['n']:.2f} (n={train['n']})" in r.output
    assert (tmp_path / "cmp" / "comparison.html").is_file()
