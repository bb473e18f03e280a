import subprocess
import sys


def test_cli_info_runs(tmp_path, monkeypatch):
    env = {"AUDITLENS_CACHE": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-m", "auditlens", "info"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert "auditlens" in out.stdout
    assert str(tmp_path) in out.stdout
