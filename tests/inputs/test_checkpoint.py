"""Checkpoint fingerprints, split into weights, tokenizer and configs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers.project import write_checkpoint, write_hf_snapshot

from evallock.errors import InputError
from evallock.inputs import checkpoint
from evallock.statcache import StatCache


def fingerprint(folder: Path) -> dict[str, object]:
    return checkpoint.fingerprint("model", str(folder), StatCache(None))


@pytest.mark.parametrize(
    ("name", "part"),
    [
        ("model-00001-of-00002.safetensors", "weights"),
        ("model.safetensors.index.json", "weights"),
        ("tokenizer_config.json", "tokenizer"),
        ("chat_template.jinja", "tokenizer"),
        ("generation_config.json", "generation_config"),
        ("config.json", "config"),
        ("LICENSE", "other"),
    ],
)
def test_checkpoint_classify_parts(name: str, part: str) -> None:
    assert checkpoint.classify(name) == part


def test_checkpoint_records_settings(tmp_path: Path) -> None:
    write_checkpoint(tmp_path / "model")
    table = fingerprint(tmp_path / "model")
    settings = table["generation_config"]["settings"]  # type: ignore[index]
    assert settings["top_k"] == 20
    assert table["config"]["settings"]["max_position_embeddings"] == 64  # type: ignore[index]


def test_checkpoint_nested_config_not_expanded(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    write_checkpoint(folder)
    (folder / "config.json").unlink()
    (folder / "vision").mkdir()
    (folder / "vision" / "config.json").write_text("{}")
    table = fingerprint(folder)
    assert table["config"]["files"] == {
        "vision/config.json": table["config"]["files"]["vision/config.json"]
    }  # type: ignore[index]
    assert "settings" not in table["config"]  # type: ignore[operator]


def test_checkpoint_without_weights_rejected(tmp_path: Path) -> None:
    write_checkpoint(tmp_path / "model")
    (tmp_path / "model" / "model.safetensors").unlink()
    with pytest.raises(InputError, match="contains no weights file"):
        fingerprint(tmp_path / "model")


def test_checkpoint_folder_link_loop_rejected(tmp_path: Path) -> None:
    write_checkpoint(tmp_path / "model")
    (tmp_path / "model" / "again").symlink_to(tmp_path / "model")
    with pytest.raises(InputError, match="model/again is a symbolic link to model/."):
        fingerprint(tmp_path / "model")


def test_checkpoint_fifo_rejected(tmp_path: Path) -> None:
    write_checkpoint(tmp_path / "model")
    os.mkfifo(tmp_path / "model" / "pipe.bin")
    with pytest.raises(InputError, match="pipe.bin is not a regular file"):
        fingerprint(tmp_path / "model")


def test_checkpoint_hf_reference_resolves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    snapshot = write_hf_snapshot(tmp_path / "hub", "org/name", "e" * 40)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    assert checkpoint.resolve_checkpoint("hf:org/name", "/") == str(snapshot)
    assert checkpoint.resolve_checkpoint("hf:org/name@main", "/") == str(snapshot)
    assert checkpoint.resolve_checkpoint(f"hf:org/name@{'e' * 40}", "/") == str(
        snapshot
    )


def test_checkpoint_hf_home_fallback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    assert checkpoint.hub_cache() == str(tmp_path / "hub")


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("hf:tiny", "must name ORG/NAME"),
        ("hf:org/absent", "is not in the Hugging Face cache"),
        (f"hf:org/name@{'f' * 40}", "snapshot ffff"),
        ("models/absent", "does not exist"),
    ],
)
def test_checkpoint_bad_reference_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spec: str, expected: str
) -> None:
    write_hf_snapshot(tmp_path / "hub", "org/name", "e" * 40)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    with pytest.raises(InputError) as caught:
        checkpoint.resolve_checkpoint(spec, str(tmp_path))
    assert expected in str(caught.value)
