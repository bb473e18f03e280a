"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable

import pytest

#: What a gloo rank prints when it dies in torch's C++ process-group teardown (std::thread destroyed while
#: joinable) after the work is done: about 1 run in 50 on the 2-core box under load, with torch 2.13, even with a
#: barrier before ``destroy_process_group``; a known class of c10d teardown bugs, not ours.
TEARDOWN_ABORT = "terminate called without an active exception"


@pytest.fixture()
def torchrun() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``python -m torch.distributed.run --standalone --nproc_per_node=2 <args>``; a run that fails only by
    the teardown abort above is run again (twice at most), any other failure is returned as it is."""

    def run(
        *args: str, timeout: float = 240, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", *args]
        env = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
        for _ in range(3):
            proc = subprocess.Popen(
                cmd,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
                start_new_session=True,
            )
            try:
                out, err = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)  # torchrun and its workers
                proc.communicate()
                pytest.fail(f"torchrun {' '.join(args)} timed out after {timeout} s")
            done = subprocess.CompletedProcess(cmd, proc.returncode, out, err)
            if proc.returncode == 0 or TEARDOWN_ABORT not in err:
                return done
        return done

    return run


CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip


def chromium_executable() -> str | None:
    """Debian's chromium (``apt-get install chromium``) or ``$AUDITLENS_CHROMIUM``; Playwright cannot download its
    own browser offline."""
    import shutil
    from pathlib import Path

    for c in (os.environ.get("AUDITLENS_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if c and Path(c).exists():
            return c
    return None


@pytest.fixture()
def browser():  # type: ignore[no-untyped-def]
    """A headless Chromium (Playwright) for testing HTML output for real; skipped where there is none."""
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install playwright)"
    )
    exe = chromium_executable()
    if exe is None:
        pytest.skip("no chromium binary (apt-get install chromium, or set AUDITLENS_CHROMIUM)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()
