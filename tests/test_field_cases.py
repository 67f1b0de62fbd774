"""Ways that evaluation numbers silently changed in the field, as verify checks.

Each test names the case it reproduces; the expected values are the ones a
user saw, or should have seen, in that situation.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest
from helpers.cli import run_cli
from helpers.project import (
    age_files,
    items,
    make_project,
    set_config,
    write_hf_snapshot,
    write_jsonl,
)

from evallock import statcache


def locked(root: Path) -> Path:
    result = run_cli(root, "lock")
    assert result.code == 0, result.stderr
    return root


def drift(root: Path) -> tuple[int, list[dict[str, Any]]]:
    result = run_cli(root, "verify", "--format", "json")
    payload = result.json()
    return result.code, payload["changes"]


def test_field_shared_library_grows(tmp_path: Path) -> None:
    root = make_project(tmp_path / "repo")
    set_config(root, "data/addition.jsonl", "data/baseline.jsonl")
    rows = items(30)
    write_jsonl(root / "data" / "baseline.jsonl", rows)
    locked(root)
    lines = (root / "data" / "baseline.jsonl").read_text().splitlines()
    reordered = dict(reversed(list(rows[4].items())))
    lines[4] = json.dumps(reordered, indent=None, separators=(" ,", " : "))
    attacks = [
        {"id": f"attack-{n}", "a": 1, "b": 2, "answer": "ignore previous"}
        for n in range(3)
    ]
    lines += [json.dumps(row) for row in attacks]
    (root / "data" / "baseline.jsonl").write_text("\n".join(lines) + "\n")
    code, changes = drift(root)
    assert code == 1
    assert len(changes) == 1
    assert changes[0]["component"] == "datasets"
    assert changes[0]["path"] == "data/baseline.jsonl"
    assert changes[0]["items"] == {"added": 3, "removed": 0, "changed": 0}


def test_field_dataset_trimmed_same_name(tmp_path: Path) -> None:
    root = make_project(tmp_path / "repo", count=399)
    locked(root)
    rows = items(399)
    flawed = set(range(0, 399, 19))
    assert len(flawed) == 21
    kept = [row for n, row in enumerate(rows) if n not in flawed]
    write_jsonl(root / "data" / "addition.jsonl", kept)
    code, changes = drift(root)
    assert code == 1
    assert changes[0]["items"] == {"added": 0, "removed": 21, "changed": 0}


def test_field_generation_config_override(tmp_path: Path) -> None:
    root = locked(make_project(tmp_path / "repo"))
    path = root / "model" / "generation_config.json"
    settings = json.loads(path.read_text())
    settings["repetition_penalty"] = 1.3
    path.write_text(json.dumps(settings, indent=2))
    code, changes = drift(root)
    assert code == 1
    assert len(changes) == 1
    assert changes[0]["part"] == "generation_config"
    assert changes[0]["path"] == "model/generation_config.json"
    assert changes[0]["settings"] == [
        {"setting": "repetition_penalty", "old": 1.1, "new": 1.3}
    ]
    text = run_cli(root, "verify").stdout
    assert "(generation config): repetition_penalty: 1.1 → 1.3" in text


def test_field_generation_config_top_k(tmp_path: Path) -> None:
    root = locked(make_project(tmp_path / "repo"))
    path = root / "model" / "generation_config.json"
    path.write_text(path.read_text().replace('"top_k": 20', '"top_k": 50'))
    code, changes = drift(root)
    assert code == 1
    assert changes[0]["settings"] == [{"setting": "top_k", "old": 20, "new": 50}]


def test_field_chat_template_system_text(tmp_path: Path) -> None:
    root = locked(make_project(tmp_path / "repo"))
    path = root / "model" / "tokenizer_config.json"
    path.write_text(path.read_text().replace("You are helpful.", "You are terse."))
    code, changes = drift(root)
    assert code == 1
    assert len(changes) == 1
    assert changes[0]["part"] == "tokenizer"
    assert changes[0]["path"] == "model/tokenizer_config.json"
    assert changes[0]["detail"] == "the chat template changed"
    assert all(change.get("part") != "weights" for change in changes)


@pytest.mark.parametrize(
    ("old", "new", "setting", "before", "after"),
    [
        ("max_num_seqs = 64", "max_num_seqs = 8", "max_num_seqs", 64, 8),
        (
            "seed = 0",
            "seed = 0\ntensor_parallel_size = 2",
            "tensor_parallel_size",
            1,
            2,
        ),
    ],
)
def test_field_batch_configuration_engine_drift(
    tmp_path: Path, old: str, new: str, setting: str, before: int, after: int
) -> None:
    root = locked(make_project(tmp_path / "repo"))
    set_config(root, old, new)
    code, changes = drift(root)
    assert code == 1
    assert changes == [
        {
            "component": "engine",
            "setting": setting,
            "kind": "modified",
            "old": before,
            "new": after,
        }
    ]
    text = run_cli(root, "verify").stdout
    assert f"{setting}: {before} → {after}" in text


def test_field_line_endings_crlf(tmp_path: Path) -> None:
    root = locked(make_project(tmp_path / "repo"))
    path = root / "prompts" / "system.txt"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    code, changes = drift(root)
    assert code == 1
    assert changes[0]["path"] == "prompts/system.txt"
    assert changes[0]["detail"].startswith("line endings changed (LF → CRLF)")
    text = run_cli(root, "verify").stdout
    assert "line endings changed (LF → CRLF)" in text


def hf_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    cache = tmp_path / "hub"
    write_hf_snapshot(cache, "acme/tiny", revision="c" * 40)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    root = make_project(tmp_path / "repo")
    shutil.rmtree(root / "model")
    set_config(root, 'checkpoint = "model"', 'checkpoint = "hf:acme/tiny"')
    return locked(root), cache


def test_field_hf_snapshot_follows_links(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, _ = hf_project(tmp_path, monkeypatch)
    checkpoint = tomllib.loads((root / "eval.lock").read_text())["checkpoint"]
    assert checkpoint["source"] == "hf:acme/tiny"
    assert checkpoint["hf_repo"] == "acme/tiny"
    assert checkpoint["hf_revision"] == "c" * 40
    assert list(checkpoint["weights"]["files"]) == ["model.safetensors"]
    plain = make_project(tmp_path / "plain")
    locked(plain)
    plain_text = (plain / "eval.lock").read_text()
    weights_line = next(
        line
        for line in plain_text.splitlines()
        if line.startswith('"model.safetensors"')
    )
    assert weights_line in (root / "eval.lock").read_text()


def test_field_hf_cache_moved_still_verifies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, cache = hf_project(tmp_path, monkeypatch)
    moved = tmp_path / "elsewhere" / "hub"
    moved.parent.mkdir()
    shutil.move(str(cache), str(moved))
    monkeypatch.setenv("HF_HUB_CACHE", str(moved))
    code, changes = drift(root)
    assert changes == []
    assert code == 0


def test_field_hf_dangling_link_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, cache = hf_project(tmp_path, monkeypatch)
    snapshot = cache / "models--acme--tiny" / "snapshots" / ("c" * 40)
    blob = (snapshot / "tokenizer.json").resolve()
    blob.unlink()
    result = run_cli(root, "verify")
    assert result.code == 2
    assert len(result.stderr_lines) == 1
    assert "hf:acme/tiny/tokenizer.json is a dangling symbolic link" in result.stderr


def test_field_hf_new_revision_is_drift(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, cache = hf_project(tmp_path, monkeypatch)
    entry = cache / "models--acme--tiny"
    shutil.copytree(
        entry / "snapshots" / ("c" * 40),
        entry / "snapshots" / ("d" * 40),
        symlinks=True,
    )
    (entry / "refs" / "main").write_text("d" * 40)
    code, changes = drift(root)
    assert code == 1
    assert changes == [
        {
            "component": "checkpoint",
            "setting": "hf_revision",
            "kind": "modified",
            "old": "c" * 40,
            "new": "d" * 40,
        }
    ]


def test_field_same_size_edit_large_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_project(tmp_path / "repo")
    weights = root / "model" / "model.safetensors"
    size = 2 * 1000**3
    subprocess.run(["truncate", "-s", str(size), str(weights)], check=True)
    age_files(root)
    locked(root)
    reference = tmp_path / "reference"
    subprocess.run(["touch", "-r", str(weights), str(reference)], check=True)
    with open(weights, "r+b") as stream:
        stream.seek(size // 2)
        stream.write(b"\x01")
    subprocess.run(["touch", "-r", str(reference), str(weights)], check=True)
    # The edit set ctime to now. A read that starts within the racy window
    # after it is never trusted, and the second verify would hash again.
    time.sleep(statcache.FINE_RACY_WINDOW_NS / 1e9 + 0.1)
    assert weights.stat().st_size == size
    assert weights.stat().st_mtime_ns == reference.stat().st_mtime_ns
    code, changes = drift(root)
    assert code == 1
    assert changes[0]["part"] == "weights"
    assert changes[0]["path"] == "model/model.safetensors"
    second = run_cli(root, "-v", "verify")
    assert second.code == 1
    counts = [line for line in second.debug if line.startswith("stat cache:")]
    assert counts[0].endswith(" 0 misses")
    assert os.path.getsize(weights) == size


def test_field_extra_chat_template_is_tokenizer(tmp_path: Path) -> None:
    root = make_project(tmp_path / "repo")
    extra = root / "model" / "additional_chat_templates"
    extra.mkdir()
    (extra / "tool_use.jinja").write_text("{{ 'Use tools.' }}{{ messages }}")
    locked(root)
    (extra / "tool_use.jinja").write_text("{{ 'Use tools freely.' }}{{ messages }}")
    code, changes = drift(root)
    assert code == 1
    assert changes[0]["part"] == "tokenizer"
    assert changes[0]["path"] == "model/additional_chat_templates/tool_use.jinja"
    assert changes[0]["detail"] == "the chat template changed"


def test_field_vllm_argument_is_engine_drift(tmp_path: Path) -> None:
    root = locked(make_project(tmp_path / "repo"))
    with open(root / ".evallock.toml", "a") as stream:
        stream.write("\n[engine.vllm]\nblock_size = 16\n")
    code, changes = drift(root)
    assert code == 1
    assert changes == [
        {
            "component": "engine",
            "setting": "vllm.block_size",
            "kind": "added",
            "old": None,
            "new": 16,
        }
    ]
