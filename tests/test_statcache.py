"""The stat cache: reuse of digests for provably unchanged files."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace

from helpers.cli import run_cli
from helpers.project import age_files, make_project

from evallock import statcache
from evallock.statcache import StatCache


def cache_counts(debug: list[str]) -> str:
    lines = [line for line in debug if line.startswith("stat cache:")]
    assert len(lines) == 1
    return lines[0]


def wait_out_racy_window() -> None:
    time.sleep(statcache.FINE_RACY_WINDOW_NS / 1e9 + 0.05)


def test_statcache_hit_on_unchanged_aged_tree(tmp_path: Path) -> None:
    root = make_project(tmp_path / "repo")
    age_files(root)
    wait_out_racy_window()
    assert run_cli(root, "lock").code == 0
    first = run_cli(root, "-v", "verify")
    second = run_cli(root, "-v", "verify")
    assert first.code == 0
    assert second.code == 0
    assert cache_counts(second.debug).endswith(", 0 misses")
    assert not cache_counts(second.debug).startswith("stat cache: 0 hits")


def test_statcache_racy_entry_not_trusted(tmp_path: Path) -> None:
    path = tmp_path / "file.txt"
    path.write_text("one")
    info = os.stat(path)
    cache = StatCache(None)
    cache.put("raw:file", info, statcache.now_ns(), "digest")
    assert cache.get("raw:file", info) is None


def test_statcache_old_entry_trusted(tmp_path: Path) -> None:
    path = tmp_path / "file.txt"
    path.write_text("one")
    info = os.stat(path)
    cache = StatCache(None)
    later = max(info.st_mtime_ns, info.st_ctime_ns) + statcache.RACY_WINDOW_NS + 1
    cache.put("raw:file", info, later, "digest")
    assert cache.get("raw:file", info) == "digest"


def test_statcache_same_size_restored_mtime_detected(tmp_path: Path) -> None:
    root = make_project(tmp_path / "repo")
    prompt = root / "prompts" / "system.txt"
    reference = tmp_path / "reference"
    age_files(root)
    wait_out_racy_window()
    assert run_cli(root, "lock").code == 0
    assert run_cli(root, "verify").code == 0
    before = os.stat(prompt)
    subprocess.run(["touch", "-r", str(prompt), str(reference)], check=True)
    prompt.write_text(prompt.read_text().replace("Add", "Sum"))
    subprocess.run(["touch", "-r", str(reference), str(prompt)], check=True)
    after = os.stat(prompt)
    assert after.st_size == before.st_size
    assert after.st_mtime_ns == before.st_mtime_ns
    result = run_cli(root, "verify", "--format", "json")
    assert result.code == 1
    assert result.json()["changes"][0]["path"] == "prompts/system.txt"


def test_statcache_replaced_file_detected_by_inode(tmp_path: Path) -> None:
    path = tmp_path / "file.txt"
    path.write_text("one")
    info = os.stat(path)
    cache = StatCache(None)
    cache.put("raw:file", info, info.st_ctime_ns + 10 * statcache.RACY_WINDOW_NS, "x")
    replacement = tmp_path / "new.txt"
    replacement.write_text("two")
    os.utime(replacement, ns=(info.st_atime_ns, info.st_mtime_ns))
    os.replace(replacement, path)
    assert cache.get("raw:file", os.stat(path)) is None


def test_statcache_corrupt_file_ignored(tmp_path: Path) -> None:
    path = tmp_path / "statcache.json"
    path.write_text("{not json")
    assert StatCache.load(str(path)).entries == {}


def test_statcache_malformed_entry_is_miss(tmp_path: Path) -> None:
    path = tmp_path / "file.txt"
    path.write_text("one")
    cache = StatCache(None, {"raw:file": ["bad"]})
    assert cache.get("raw:file", os.stat(path)) is None
    assert cache.get_blob("raw:file") is None


def test_statcache_saved_in_git_folder(tmp_path: Path) -> None:
    root = make_project(tmp_path / "repo")
    assert run_cli(root, "lock").code == 0
    assert (root / ".git" / "evallock" / "statcache.json").is_file()


def test_statcache_whole_seconds_wide_window() -> None:
    coarse = SimpleNamespace(st_mtime_ns=1_700_000_000 * 10**9, st_ctime_ns=17 * 10**17)
    fine = SimpleNamespace(st_mtime_ns=1_700_000_000_123_456_789, st_ctime_ns=0)
    assert statcache.racy_window_ns(coarse) == statcache.RACY_WINDOW_NS  # type: ignore[arg-type]
    assert statcache.racy_window_ns(fine) == statcache.FINE_RACY_WINDOW_NS  # type: ignore[arg-type]


def test_statcache_read_after_change_racy() -> None:
    stat = SimpleNamespace(st_mtime_ns=5 * 10**9 + 1, st_ctime_ns=5 * 10**9 + 1)
    window = statcache.FINE_RACY_WINDOW_NS
    assert statcache.is_racy(stat, 5 * 10**9 + window)  # type: ignore[arg-type]
    assert not statcache.is_racy(stat, 5 * 10**9 + window + 2)  # type: ignore[arg-type]


def test_statcache_prune_drops_unused_of_kind(tmp_path: Path) -> None:
    path = tmp_path / "file.txt"
    path.write_text("one")
    info = os.stat(path)
    cache = StatCache(None)
    cache.put("raw:/kept", info, 0, "a")
    cache.put("raw:/deleted", info, 0, "b")
    cache.put_blob("text:blob:00", "c")
    cache = StatCache(None, dict(cache.entries))
    cache.get("raw:/kept", info)
    cache.prune(blobs=False)
    assert sorted(cache.entries) == ["raw:/kept", "text:blob:00"]


def test_statcache_deleted_file_pruned(tmp_path: Path) -> None:
    root = make_project(tmp_path / "repo")
    extra = root / "prompts" / "fewshot" / "three.txt"
    extra.write_text("1+2=3\n")
    assert run_cli(root, "lock").code == 0
    cache_file = root / ".git" / "evallock" / "statcache.json"
    assert str(extra) in cache_file.read_text()
    extra.unlink()
    assert run_cli(root, "lock").code == 0
    assert str(extra) not in cache_file.read_text()
