"""keep_freed_memory: glibc malloc tuning, applied once per process, with an opt-out."""

from __future__ import annotations

import platform

import pytest

from auditlens import cpu_memory


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cpu_memory, "_applied", None)
    for name in ("AUDITLENS_KEEP_FREED_MEMORY", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc malloc only"
)
def test_applied_once_on_glibc(fresh: None, monkeypatch: pytest.MonkeyPatch) -> None:
    assert cpu_memory.keep_freed_memory() is True
    monkeypatch.setenv("AUDITLENS_KEEP_FREED_MEMORY", "0")  # too late: the first answer stands
    assert cpu_memory.keep_freed_memory() is True


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("AUDITLENS_KEEP_FREED_MEMORY", "0"),
        ("AUDITLENS_KEEP_FREED_MEMORY", "off"),
        ("MALLOC_TRIM_THRESHOLD_", "1"),
    ],
)
def test_opt_out_and_user_tuning_are_respected(
    fresh: None, monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    assert cpu_memory.keep_freed_memory() is False


def test_other_c_libraries_are_left_alone(fresh: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(platform, "libc_ver", lambda: ("musl", "1.2"))
    assert cpu_memory.keep_freed_memory() is False
