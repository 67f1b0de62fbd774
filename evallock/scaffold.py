"""Guessing a first ``.evallock.toml`` from the files in a repository."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import tomlkit

SKIPPED_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", ".tox"}
DATASET_SUFFIXES = (".jsonl", ".ndjson", ".csv")
TEMPLATE_SUFFIXES = (".jinja", ".jinja2", ".j2")


@dataclass
class Found:
    """Candidate inputs found in a project folder, as project-relative paths."""

    checkpoints: list[str] = field(default_factory=list)
    datasets: list[str] = field(default_factory=list)
    templates: list[str] = field(default_factory=list)
    prompt_dirs: list[str] = field(default_factory=list)


def survey(root: str) -> Found:
    found = Found()
    for current, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.startswith("."))
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
            elif name.endswith((".txt", ".md")) and "prompt" in path.lower():
                if relative and relative not in found.prompt_dirs:
                    found.prompt_dirs.append(relative)
    return found


def render(found: Found) -> str:
    """Return a commented ``.evallock.toml`` for what was found."""
    doc = tomlkit.document()
    doc.add(tomlkit.comment("What evallock pins and runs. Paths are relative to this file."))
    doc.add(tomlkit.comment("Reference: docs/file-formats.md in the evallock repository."))
    doc.add(tomlkit.nl())

    model = tomlkit.table()
    checkpoint = found.checkpoints[0] if found.checkpoints else "models/CHANGE-ME"
    model.add("checkpoint", checkpoint)
    model["checkpoint"].comment("a model folder, or hf:ORG/NAME from the HF cache")
    model.add("chat", False)
    model["chat"].comment("true: render prompts through the tokenizer's chat template")
    model.add("use_generation_config", False)
    model["use_generation_config"].comment(
        "true: let the model's generation_config.json set sampling defaults"
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
    for index, dataset in enumerate(datasets):
        table = tomlkit.table()
        stem = os.path.splitext(os.path.basename(dataset))[0]
        table.add("name", stem if stem not in [t.get("name") for t in evals] else f"{stem}-{index}")
        table.add("dataset", dataset)
        template = found.templates[0] if found.templates else "prompts/CHANGE-ME.jinja"
        table.add("template", template)
        if found.prompt_dirs:
            table.add("prompts", [f"{d}/**/*.txt" for d in found.prompt_dirs])
        table.add("scorer", "exact_match")
        table["scorer"].comment("exact_match, includes, regex:<pattern>, python:<file>:<fn>")
        evals.append(table)
    doc.add("evals", evals)

    compare = tomlkit.table()
    compare.add("under_test", ["checkpoint"])
    compare["under_test"].comment("components a comparison may vary")
    compare.add("ignore", tomlkit.array())
    doc.add("compare", compare)
    return tomlkit.dumps(doc)
