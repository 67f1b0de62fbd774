from pathlib import Path

import pytest

from evallock import lockfile
from evallock.errors import LockfileError
from evallock.hashing import digest_value

LOCK = {
    "version": 1,
    "prompts": {
        "digest": digest_value({"a.txt": "1"}),
        "files": {"a.txt": {"digest": "1", "eol": "lf", "text": "1"}},
    },
    "engine": {
        "digest": digest_value({"dtype": "auto", "seed": 0, "t": 0.5}),
        "settings": {"dtype": "auto", "seed": 0, "t": 0.5},
    },
}


def test_loads_cached_matches_loads(tmp_path: Path) -> None:
    text = lockfile.dumps(LOCK)
    cache = str(tmp_path / "parsed.json")
    first = lockfile.loads_cached(text, "eval.lock", cache)
    second = lockfile.loads_cached(text, "eval.lock", cache)
    assert first == lockfile.loads(text)
    assert second == lockfile.loads(text)


def test_loads_cached_reuses_stored_parse(tmp_path: Path) -> None:
    text = lockfile.dumps(LOCK)
    cache = tmp_path / "parsed.json"
    lockfile.loads_cached(text, "eval.lock", str(cache))
    key, _, _ = cache.read_text().partition("\n")
    cache.write_text(key + '\n{"version": 1, "marker": true}')
    assert lockfile.loads_cached(text, "eval.lock", str(cache))["marker"] is True


def test_loads_cached_reparses_changed_text(tmp_path: Path) -> None:
    cache = str(tmp_path / "parsed.json")
    lockfile.loads_cached(lockfile.dumps(LOCK), "eval.lock", cache)
    engine = {"digest": digest_value({"seed": 1}), "settings": {"seed": 1}}
    changed = {**LOCK, "engine": engine}
    loaded = lockfile.loads_cached(lockfile.dumps(changed), "eval.lock", cache)
    assert loaded["engine"]["settings"] == {"seed": 1}


def test_loads_cached_damaged_cache_reparses(tmp_path: Path) -> None:
    text = lockfile.dumps(LOCK)
    cache = tmp_path / "parsed.json"
    lockfile.loads_cached(text, "eval.lock", str(cache))
    key, _, _ = cache.read_text().partition("\n")
    cache.write_text(key + "\n{not json")
    assert lockfile.loads_cached(text, "eval.lock", str(cache)) == lockfile.loads(text)


def test_loads_cached_still_rejects_invalid_lock(tmp_path: Path) -> None:
    with pytest.raises(LockfileError):
        lockfile.loads_cached("version = 99\n", "eval.lock", str(tmp_path / "p"))
