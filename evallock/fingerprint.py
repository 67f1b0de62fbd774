"""Building a lock: the fingerprint of every input that decides a score."""

from __future__ import annotations

import glob as glob_lib
import json
import os
from dataclasses import dataclass
from typing import Any

from evallock.config import Config, EvalSpec
from evallock.errors import InputError
from evallock.fsutil import check_utf8_name
from evallock.gitrepo import Project
from evallock.hashing import digest_value, lfs_pointer_error
from evallock.inputs import checkpoint as checkpoint_inputs
from evallock.inputs import datasets as dataset_inputs
from evallock.inputs.source import WorkTree, check_relative
from evallock.lockfile import VERSION

# The components compared by default; software and hardware usually differ
# between a CI runner and the machine that ran the evaluation.
INPUT_COMPONENTS = (
    "prompts",
    "datasets",
    "checkpoint",
    "engine",
    "sampling",
    "evals",
    "scorer",
)
ENV_COMPONENTS = ("software", "hardware")
PER_ITEM_SEED = "xxh3_64(engine.seed, item id) & 0x7fffffff"


@dataclass(frozen=True)
class EvalFiles:
    """The files of one evaluation after glob expansion."""

    dataset: str
    template: str
    prompts: tuple[str, ...]
    scorer_source: str | None


def scorer_source(spec: EvalSpec) -> str | None:
    if not spec.scorer.startswith("python:"):
        return None
    return spec.scorer.split(":")[1]


def expand(spec: EvalSpec, source: WorkTree) -> EvalFiles:
    """Resolve an eval's paths and globs, rejecting ones that match nothing."""
    dataset = check_relative(spec.dataset, f"[[evals]] {spec.name} dataset")
    template = check_relative(spec.template, f"[[evals]] {spec.name} template")
    for key, path in (("dataset", dataset), ("template", template)):
        if not source.exists(path):
            raise InputError(
                f"[[evals]] {spec.name} {key} = {path!r} does not exist; fix the path "
                "in .evallock.toml"
            )
    prompts: list[str] = []
    for pattern in spec.prompts:
        matched = source.glob(pattern)
        if not matched and not glob_lib.has_magic(pattern):
            raise InputError(
                f"[[evals]] {spec.name} prompts entry {pattern!r} does not exist; fix "
                "the path in .evallock.toml or add the file"
            )
        if not matched:
            raise InputError(
                f"[[evals]] {spec.name} prompts pattern {pattern!r} matches no file; "
                "fix the pattern or add the files"
            )
        prompts.extend(check_utf8_name(path) for path in matched)
    scorer = scorer_source(spec)
    if scorer is not None:
        scorer = check_relative(scorer, f"[[evals]] {spec.name} scorer")
        if not source.exists(scorer):
            raise InputError(
                f"[[evals]] {spec.name} scorer file {scorer!r} does not exist; fix the "
                "path in the scorer setting"
            )
    return EvalFiles(dataset, template, tuple(dict.fromkeys(prompts)), scorer)


def _prompts(files: list[EvalFiles], source: WorkTree) -> dict[str, Any]:
    paths = sorted({f.template for f in files} | {p for f in files for p in f.prompts})
    table: dict[str, Any] = {}
    templates = {f.template for f in files}
    for path in paths:
        facts = source.text_facts(path)
        check_text(facts, path)
        if path in templates and facts["empty"]:
            raise InputError(
                f"template {path} is empty, so every prompt would be empty; write "
                "the template or point template at the right file"
            )
        table[path] = {key: facts[key] for key in ("digest", "eol", "text")}
    digest = digest_value({path: facts["digest"] for path, facts in table.items()})
    return {"digest": digest, "files": table}


def check_text(facts: dict[str, Any], path: str) -> None:
    """Reject a prompt, template or scorer file that is not UTF-8 text."""
    if facts["lfs_pointer"]:
        raise lfs_pointer_error(path)
    if facts["nul"] >= 0:
        raise InputError(
            f"{path} is a binary file (NUL byte at offset {facts['nul']}); "
            "point the setting at a text file"
        )
    if not facts["utf8"]:
        raise InputError(
            f"{path} is not valid UTF-8 text; save it as UTF-8, because templates "
            "and prompts are rendered as text"
        )


def _datasets(
    config: Config, files: list[EvalFiles], source: WorkTree
) -> dict[str, Any]:
    table: dict[str, Any] = {}
    for spec, eval_files in zip(config.evals, files, strict=True):
        path = eval_files.dataset
        fmt = dataset_inputs.detect_format(path, spec.format)

        def compute(relative: str, fmt: str = fmt, spec: EvalSpec = spec) -> Any:
            data = source.read(relative, dataset_inputs.MAX_DATASET_BYTES)
            return dataset_inputs.build_manifest(data, relative, fmt, spec.id_field)

        manifest = source.cached(f"items:{fmt}:{spec.id_field}", path, compute)
        if path in table and table[path]["items_digest"] != manifest["items_digest"]:
            raise InputError(
                f"dataset {path} is used by two evals with different id_field or "
                "format settings; make them agree"
            )
        table[path] = {"digest": manifest["items_digest"], **manifest}
    return table


def _engine(config: Config, checkpoint: dict[str, Any]) -> dict[str, Any]:
    settings = dict(config.engine)
    if settings["max_model_len"] == 0:
        model_settings = checkpoint["config"].get("settings", {})
        length = model_settings.get("max_position_embeddings")
        if not isinstance(length, int):
            raise InputError(
                "[engine] max_model_len is not set and the checkpoint's config.json "
                "has no max_position_embeddings; set max_model_len in .evallock.toml"
            )
        settings["max_model_len"] = length
    for key, value in sorted(config.engine_extra.items()):
        settings[f"vllm.{key}"] = (
            value if not isinstance(value, dict) else json.dumps(value, sort_keys=True)
        )
    return {"digest": digest_value(settings), "settings": settings}


def _sampling(config: Config) -> dict[str, Any]:
    settings = dict(config.sampling)
    settings["use_generation_config"] = config.use_generation_config
    settings["seed_policy"] = PER_ITEM_SEED
    return {"digest": digest_value(settings), "settings": settings}


def _evals(config: Config, files: list[EvalFiles]) -> dict[str, Any]:
    table: dict[str, Any] = {}
    for spec, eval_files in zip(config.evals, files, strict=True):
        table[spec.name] = {
            "dataset": eval_files.dataset,
            "template": eval_files.template,
            "prompts": list(eval_files.prompts),
            "answer_field": spec.answer_field,
            "chat": config.chat,
        }
    return {"digest": digest_value(table), **table}


def _scorers(
    config: Config, files: list[EvalFiles], source: WorkTree
) -> dict[str, Any]:
    table: dict[str, Any] = {}
    for spec, eval_files in zip(config.evals, files, strict=True):
        entry: dict[str, Any] = {"name": spec.scorer}
        if eval_files.scorer_source is not None:
            facts = source.text_facts(eval_files.scorer_source)
            check_text(facts, eval_files.scorer_source)
            entry["source"] = eval_files.scorer_source
            entry["source_digest"] = facts["digest"]
        table[spec.name] = entry
    return {"digest": digest_value(table), **table}


def with_digest(values: dict[str, Any]) -> dict[str, Any]:
    return {"digest": digest_value(values), **values}


def _template_problem(source: WorkTree, path: str) -> str:
    import jinja2

    text = source.read(path).decode("utf-8", "replace")
    try:
        jinja2.Environment().parse(text)
    except jinja2.TemplateSyntaxError as error:
        return f"line {error.lineno}: {error.message}"
    # An empty string, not None, because None means "not cached".
    return ""


def check_template(source: WorkTree, path: str) -> None:
    """Reject a template with a Jinja syntax error, so a hook stops it early.

    The outcome is kept in the stat cache, so an unchanged template costs no
    Jinja import on the next verify.
    """
    problem = source.cached("jinja", path, lambda rel: _template_problem(source, rel))
    if problem:
        raise InputError(
            f"{path} is not a valid Jinja template ({problem}); fix the template"
        )


def build(
    project: Project,
    config: Config,
    source: WorkTree,
    include_env: bool = True,
) -> dict[str, Any]:
    """Return a complete lock for the project's current inputs."""
    files = [expand(spec, source) for spec in config.evals]
    for template in sorted({eval_files.template for eval_files in files}):
        check_template(source, template)
    folder = checkpoint_inputs.resolve_checkpoint(config.checkpoint, project.root)
    checkpoint = checkpoint_inputs.fingerprint(config.checkpoint, folder, source.cache)
    lock: dict[str, Any] = {
        "version": VERSION,
        "prompts": _prompts(files, source),
        "datasets": _datasets(config, files, source),
        "checkpoint": checkpoint,
        "engine": _engine(config, checkpoint),
        "sampling": _sampling(config),
        "evals": _evals(config, files),
        "scorer": _scorers(config, files, source),
    }
    if include_env:
        # Imported here so that `verify` without --env, which must start
        # fast, does not load the probing modules.
        from evallock.inputs import environment

        lock["software"] = with_digest(environment.software())
        lock["hardware"] = with_digest(environment.hardware())
    return lock


def checkpoint_folder(project: Project, config: Config) -> str:
    return os.path.realpath(
        checkpoint_inputs.resolve_checkpoint(config.checkpoint, project.root)
    )
