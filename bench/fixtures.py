"""Scratch projects and data files for the benchmarks, built once under bench/out.

Weights files hold random bytes written to disk: sparse or zero-filled files
read faster than real data and would flatter every hashing tool.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

MIB = 1024 * 1024
GIB = 1024 * MIB
WRITE_CHUNK = 16 * MIB

CONFIG = """\
[model]
checkpoint = "model"

[engine]
dtype = "float32"
max_model_len = 64
seed = 0

[sampling]
temperature = 0.0
max_tokens = 4

[[evals]]
name = "bench"
dataset = "data/items.jsonl"
template = "prompts/item.jinja"
prompts = {prompts}
scorer = "exact_match"
"""


def random_file(path: Path, size: int) -> Path:
    """Write *size* random bytes to *path*, unless a file of that size is there."""
    if path.is_file() and path.stat().st_size == size:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with open(partial, "wb") as stream:
        left = size
        while left:
            block = os.urandom(min(WRITE_CHUNK, left))
            stream.write(block)
            left -= len(block)
    partial.replace(path)
    return path


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=True
    )
    return done.stdout


def init_repo(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "bench@example.com")
    git(root, "config", "user.name", "Bench")
    git(root, "config", "commit.gpgsign", "false")
    # Storing a multi-gigabyte random file deflated costs minutes and gains
    # nothing; `git status` is unaffected by how objects are compressed.
    git(root, "config", "core.compression", "0")


def _link_or_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        target.unlink()
    try:
        os.link(source, target)
    except OSError:
        subprocess.run(["cp", str(source), str(target)], check=True)


def project(root: Path, weights: Path, prompt_count: int = 0, items: int = 20) -> Path:
    """Build a project whose checkpoint's weights file is *weights* (hard-linked).

    The project's ``prompts`` setting covers *prompt_count* small text files.
    Rebuilding is skipped when the folder exists: delete it to start over.
    """
    if (root / ".evallock.toml").is_file():
        return root
    init_repo(root)
    model = root / "model"
    model.mkdir()
    (model / "config.json").write_text(
        json.dumps(
            {"architectures": ["LlamaForCausalLM"], "max_position_embeddings": 64}
        )
    )
    (model / "tokenizer.json").write_text(json.dumps({"model": {"vocab": {"a": 0}}}))
    _link_or_copy(weights, model / "model.safetensors")
    data = root / "data"
    data.mkdir()
    rows = [
        {"id": f"q{n}", "question": f"{n}+1", "answer": str(n + 1)}
        for n in range(items)
    ]
    (data / "items.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    prompts = root / "prompts"
    (prompts / "fewshot").mkdir(parents=True)
    (prompts / "item.jinja").write_text("{{ question }}=")
    for n in range(prompt_count):
        text = f"Example {n}: {n} plus {n * 7 % 100} is {n + n * 7 % 100}.\n" * 3
        (prompts / "fewshot" / f"{n:05d}.txt").write_text(text)
    patterns = '["prompts/fewshot/*.txt"]' if prompt_count else "[]"
    (root / ".evallock.toml").write_text(CONFIG.format(prompts=patterns))
    return root


def commit_all(root: Path) -> None:
    """Commit the whole tree, so that `git status` checks every file evallock checks."""
    head = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", "HEAD"],
        cwd=root,
        capture_output=True,
        check=False,
    )
    if head.returncode == 0:
        return
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "bench tree")
