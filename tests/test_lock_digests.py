"""A lock whose values disagree with their digests is rejected as hand-edited."""

from __future__ import annotations

from pathlib import Path

import pytest

from evallock.cli import main
from helpers.project import make_project


@pytest.fixture
def locked(tmp_path: Path) -> Path:
    root = make_project(tmp_path / "repo")
    assert main(["-C", str(root), "lock"]) == 0
    return root


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        ("enable_prefix_caching = false", "enable_prefix_caching = true", "[engine]"),
        ("max_num_seqs = 64", 'max_num_seqs = "64"', "[engine]"),
        ("temperature = 0.0", "temperature = 0.7", "[sampling]"),
        ('add-0003 = "', 'add-0003 = "0', "dataset data/addition.jsonl"),
        ('"model.safetensors" = "', '"model.safetensors" = "1', "checkpoint weights"),
    ],
)
def test_lock_edited_value_rejected(
    locked: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, named: str
) -> None:
    lock = locked / "eval.lock"
    text = lock.read_text()
    assert old in text
    lock.write_text(text.replace(old, new, 1))
    assert main(["-C", str(locked), "verify"]) == 2
    error = capsys.readouterr().err
    assert "edited by hand" in error
    assert named in error
    assert "evallock lock" in error


def test_lock_untouched_accepted(locked: Path) -> None:
    assert main(["-C", str(locked), "-q", "verify"]) == 0
