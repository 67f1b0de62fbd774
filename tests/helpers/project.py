"""Builders of small evallock projects inside real temporary git repositories."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path
from typing import Any

CONFIG = """\
[model]
checkpoint = "model"

[engine]
dtype = "float32"
max_model_len = 64
seed = 0
max_num_seqs = 64

[sampling]
temperature = 0.0
max_tokens = 8

[[evals]]
name = "addition"
dataset = "data/addition.jsonl"
template = "prompts/addition.jinja"
prompts = ["prompts/system.txt", "prompts/fewshot/*.txt"]
scorer = "exact_match"
"""


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=True
    )
    return done.stdout


def init_repo(root: Path) -> None:
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "test@example.com")
    git(root, "config", "user.name", "Test")
    git(root, "config", "commit.gpgsign", "false")


def items(count: int, start: int = 0) -> list[dict[str, Any]]:
    return [
        {
            "id": f"add-{n:04d}",
            "a": n % 90 + 10,
            "b": (n * 7) % 90 + 10,
            "answer": str(n % 90 + 10 + (n * 7) % 90 + 10),
        }
        for n in range(start, start + count)
    ]


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))


def write_checkpoint(folder: Path, weights: bytes = b"\x00" * 4096) -> None:
    """A checkpoint-shaped folder; its weights are placeholder bytes, not a model."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(
        json.dumps(
            {
                "architectures": ["LlamaForCausalLM"],
                "hidden_size": 128,
                "max_position_embeddings": 64,
            },
            indent=2,
        )
    )
    (folder / "generation_config.json").write_text(
        json.dumps(
            {
                "bos_token_id": 1,
                "eos_token_id": 2,
                "repetition_penalty": 1.1,
                "top_k": 20,
            },
            indent=2,
        )
    )
    (folder / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "chat_template": "{{ 'You are helpful.' }}{{ messages }}",
                "model_max_length": 64,
            },
            indent=2,
        )
    )
    (folder / "tokenizer.json").write_text(json.dumps({"model": {"vocab": {"a": 0}}}))
    (folder / "model.safetensors").write_bytes(weights)


def make_project(root: Path, count: int = 20, commit: bool = True) -> Path:
    """Create a git repository with a complete project; return its root."""
    root.mkdir(parents=True, exist_ok=True)
    init_repo(root)
    (root / ".evallock.toml").write_text(CONFIG)
    write_jsonl(root / "data" / "addition.jsonl", items(count))
    prompts = root / "prompts"
    (prompts / "fewshot").mkdir(parents=True)
    (prompts / "addition.jinja").write_text("{{ a }}+{{ b }}=")
    (prompts / "system.txt").write_text("Add the numbers.\nAnswer with digits.\n")
    (prompts / "fewshot" / "one.txt").write_text("12+30=42\n")
    (prompts / "fewshot" / "two.txt").write_text("55+11=66\n")
    write_checkpoint(root / "model")
    if commit:
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "Add evaluation inputs")
    return root


def age_files(root: Path, seconds: float = 10.0) -> None:
    """Move every mtime into the past so stat-cache entries are not racy."""
    for current, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in files:
            path = os.path.join(current, name)
            info = os.stat(path)
            os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns - int(seconds * 1e9)))


def commit_all(root: Path, message: str = "Update inputs") -> str:
    """Stage everything and commit; return the new commit id."""
    git(root, "add", "-A")
    git(root, "commit", "-q", "--allow-empty", "-m", message)
    return git(root, "rev-parse", "HEAD").strip()


def set_config(root: Path, old: str, new: str) -> None:
    """Replace one exact piece of ``.evallock.toml``, failing if it is absent."""
    path = root / ".evallock.toml"
    text = path.read_text()
    if old not in text:
        raise AssertionError(f"{old!r} is not in .evallock.toml")
    path.write_text(text.replace(old, new, 1))


def write_hf_snapshot(cache: Path, repo: str, revision: str = "a" * 40) -> Path:
    """Lay out a Hugging Face hub cache entry whose snapshot files link into blobs/.

    Returns the snapshot folder. The layout is the one huggingface_hub writes:
    ``models--ORG--NAME/{blobs,refs/main,snapshots/REVISION}``, with each
    snapshot file a relative symbolic link to its blob.
    """
    staging = cache / ".staging"
    write_checkpoint(staging)
    entry = cache / ("models--" + repo.replace("/", "--"))
    blobs = entry / "blobs"
    snapshot = entry / "snapshots" / revision
    blobs.mkdir(parents=True, exist_ok=True)
    snapshot.mkdir(parents=True, exist_ok=True)
    (entry / "refs").mkdir(exist_ok=True)
    (entry / "refs" / "main").write_text(revision)
    for source in sorted(staging.iterdir()):
        data = source.read_bytes()
        blob_name = hashlib.sha256(data).hexdigest()
        (blobs / blob_name).write_bytes(data)
        (snapshot / source.name).symlink_to(f"../../blobs/{blob_name}")
        source.unlink()
    staging.rmdir()
    return snapshot
