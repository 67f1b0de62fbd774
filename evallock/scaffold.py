"""Guessing a first ``.evallock.toml`` from the files in a repository."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

import tomlkit

SKIPPED_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", ".tox"}
DATASET_SUFFIXES = (".jsonl", ".ndjson", ".csv")
TEMPLATE_SUFFIXES = (".jinja", ".jinja2", ".j2")
PROMPT_SUFFIXES = (".txt", ".md")


@dataclass
class Found:
    """Candidate inputs found in a project folder, as project-relative paths."""

    checkpoints: list[str] = field(default_factory=list)
    datasets: list[str] = field(default_factory=list)
    templates: list[str] = field(default_factory=list)
    prompt_patterns: list[str] = field(default_factory=list)


def survey(root: str) -> Found:
    found = Found()
    for current, dirs, files in os.walk(root):
        dirs[:] = sorted(
            d for d in dirs if d not in SKIPPED_DIRS and not d.startswith(".")
        )
        relative = os.path.relpath(current, root).replace(os.sep, "/")
        relative = "" if relative == "." else relative
        names = set(files)
        if "config.json" in names and any(
            n.endswith((".safetensors", ".bin", ".gguf")) for n in names
        ):
            found.checkpoints.append(relative or ".")
            dirs[:] = []
            continue
        for name in sorted(files):
            path = f"{relative}/{name}" if relative else name
            if name.endswith(DATASET_SUFFIXES):
                found.datasets.append(path)
            elif name.endswith(TEMPLATE_SUFFIXES):
                found.templates.append(path)
            elif _is_prompt_file(path):
                pattern = _prompt_pattern(relative, name)
                if not _covered(pattern, found.prompt_patterns):
                    found.prompt_patterns.append(pattern)
    return found


def _is_prompt_file(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    if not name.endswith(PROMPT_SUFFIXES) or name.upper().startswith("README"):
        return False
    return "prompt" in path.lower()


def _prompt_pattern(folder: str, name: str) -> str:
    """Return a glob for a prompt folder, or the file's own path elsewhere.

    Only a folder named like ``prompts`` is assumed to hold nothing but
    prompts; a ``prompt.txt`` next to other text files is listed alone.
    """
    if "prompt" not in folder.lower():
        return f"{folder}/{name}" if folder else name
    return f"{folder}/**/*{os.path.splitext(name)[1]}"


def _covered(pattern: str, patterns: list[str]) -> bool:
    """Tell whether one of *patterns* already matches every file *pattern* does."""
    folder, _, suffix = pattern.rpartition("*")
    for existing in patterns:
        other_folder, _, other_suffix = existing.rpartition("*")
        if other_suffix != suffix:
            continue
        base = other_folder.removesuffix("**/")
        if folder.startswith(base) and other_folder.endswith("**/"):
            return True
    return False


def eval_name(dataset: str, taken: list[str]) -> str:
    """Derive a valid, unused ``[[evals]] name`` from a dataset path."""
    stem = os.path.splitext(os.path.basename(dataset))[0]
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", stem).strip("-") or "eval"
    candidate, number = name, 2
    while candidate in taken:
        candidate = f"{name}-{number}"
        number += 1
    return candidate


def _commented(value: object, comment: str) -> Any:
    item = tomlkit.item(value)
    item.comment(comment)
    return item


def render(found: Found) -> str:
    """Return a commented ``.evallock.toml`` for what was found."""
    doc = tomlkit.document()
    doc.add(
        tomlkit.comment("What evallock pins and runs. Paths are relative to this file.")
    )
    doc.add(
        tomlkit.comment("Reference: docs/file-formats.md in the evallock repository.")
    )
    doc.add(tomlkit.nl())

    model = tomlkit.table()
    checkpoint = found.checkpoints[0] if found.checkpoints else "models/CHANGE-ME"
    model.add(
        "checkpoint",
        _commented(checkpoint, "a model folder, or hf:ORG/NAME from the HF cache"),
    )
    model.add(
        "chat",
        _commented(False, "true: render prompts through the tokenizer's chat template"),
    )
    model.add(
        "use_generation_config",
        _commented(
            False, "true: let the model's generation_config.json set sampling defaults"
        ),
    )
    doc.add("model", model)

    engine = tomlkit.table()
    engine.add(tomlkit.comment("Passed to vLLM. Prefix caching is always off."))
    engine.add("dtype", "auto")
    engine.add("seed", 0)
    engine.add("max_num_seqs", 256)
    doc.add("engine", engine)

    sampling = tomlkit.table()
    sampling.add("temperature", 0.0)
    sampling.add("max_tokens", 64)
    doc.add("sampling", sampling)

    evals = tomlkit.aot()
    datasets = found.datasets or ["data/CHANGE-ME.jsonl"]
    names: list[str] = []
    for dataset in datasets:
        table = tomlkit.table()
        names.append(eval_name(dataset, names))
        table.add("name", names[-1])
        table.add("dataset", dataset)
        template = found.templates[0] if found.templates else "prompts/CHANGE-ME.jinja"
        table.add("template", template)
        if found.prompt_patterns:
            table.add("prompts", list(found.prompt_patterns))
        table.add(
            "scorer",
            _commented(
                "exact_match",
                "exact_match, includes, regex:<pattern>, python:<file>:<fn>",
            ),
        )
        evals.append(table)
    doc.add("evals", evals)

    compare = tomlkit.table()
    compare.add(
        "under_test", _commented(["checkpoint"], "components a comparison may vary")
    )
    compare.add("ignore", tomlkit.array())
    doc.add("compare", compare)
    return tomlkit.dumps(doc)
