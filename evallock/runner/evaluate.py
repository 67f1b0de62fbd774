"""One cold evaluation, from verification to the stored result.

The steps, in order:

1. verify the inputs against ``eval.lock``;
2. render every dataset item through its template and load the scorers;
3. run a fresh vLLM worker, once per ``repeat``;
4. reject the result if vLLM reports any prefix-cache hit;
5. score the outputs;
6. re-hash the inputs and reject the result if any changed while it ran;
7. store one commit on the results ref.

A failure at any step stores nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import socket
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import xxhash

from evallock import fingerprint, lockfile, locking, store
from evallock.config import Config
from evallock.drift import Change, compare_locks
from evallock.errors import InputError, RunError
from evallock.gitrepo import Project
from evallock.inputs import datasets as dataset_inputs
from evallock.inputs import environment
from evallock.inputs.source import WorkTree
from evallock.redact import recorded_environment
from evallock.runner import launch, scoring
from evallock.runner.render import Renderer

log = logging.getLogger(__name__)


class DriftRefused(RunError):
    """The inputs differ from ``eval.lock`` and drift was not allowed."""

    def __init__(self, changes: list[Change]) -> None:
        super().__init__(
            f"the inputs differ from eval.lock in {len(changes)} place(s), so the run "
            "was not started; run `evallock verify` to see them, then `evallock "
            "lock`, or pass --allow-drift to store a result marked as drifted"
        )
        self.changes = changes


@dataclass
class Options:
    """How to run: drift policy, repeats, timeout and a progress callback."""

    allow_drift: bool = False
    repeat: int = 1
    timeout: float | None = None
    on_event: Callable[[dict[str, Any]], None] | None = None
    max_num_seqs_override: int | None = None


@dataclass
class Prepared:
    """Everything the worker needs, rendered before it starts."""

    requests: list[dict[str, Any]]
    items: list[dict[str, Any]]
    eval_of: list[str] = field(default_factory=list)


def item_seed(engine_seed: int, key: str) -> int:
    """Per-item sampling seed, so outputs do not depend on batch or order."""
    return xxhash.xxh3_64_intdigest(f"{engine_seed}:{key}".encode()) & 0x7FFFFFFF


def prepare(project: Project, cfg: Config, lock: dict[str, Any]) -> Prepared:
    source = WorkTree(project, locking.open_cache(project))
    locked = set(lock["prompts"]["files"])
    seed = int(cfg.engine["seed"])
    prepared = Prepared([], [])
    for spec in cfg.evals:
        files = fingerprint.expand(spec, source)
        fmt = dataset_inputs.detect_format(files.dataset, spec.format)
        data = source.read(files.dataset, dataset_inputs.MAX_DATASET_BYTES)
        renderer = Renderer(project.root, files.template, locked)
        for item in dataset_inputs.load_items(data, files.dataset, fmt, spec.id_field):
            prompt = renderer.render(item)
            key = f"{spec.name}/{item['__key__']}"
            prepared.requests.append(
                {"key": key, "prompt": prompt, "seed": item_seed(seed, item["__key__"])}
            )
            prepared.items.append(item)
            prepared.eval_of.append(spec.name)
    if not prepared.requests:
        raise InputError("the datasets hold no items; add items before running")
    return prepared


def build_job(
    cfg: Config, folder: str, requests: list[dict[str, Any]], max_num_seqs: int
) -> dict[str, Any]:
    engine: dict[str, Any] = {}
    for key, value in cfg.engine.items():
        if value in ("auto", "none") and key in (
            "distributed_executor_backend",
            "quantization",
        ):
            continue
        engine[key] = value
    engine["max_num_seqs"] = max_num_seqs
    engine["enable_prefix_caching"] = False
    engine.update(cfg.engine_extra)
    return {
        "model": folder,
        "engine": engine,
        "sampling": dict(cfg.sampling),
        "use_generation_config": cfg.use_generation_config,
        "requests": requests,
        "chat": cfg.chat,
    }


def _source_state(project: Project) -> dict[str, Any]:
    repo = project.repo
    try:
        branch: str | None = repo.active_branch.name
    except TypeError:
        branch = None
    return {
        "commit": project.head_commit(),
        "branch": branch,
        "dirty": repo.is_dirty(untracked_files=False),
    }


def _variant(index: int, base: int, count: int) -> tuple[int, list[int]]:
    """Batch size and request order of repeat *index*: the first is as locked."""
    order = list(range(count))
    if index == 0:
        return base, order
    if index == 1:
        return 1, order[::-1]
    generator = random.Random(index)
    generator.shuffle(order)
    return max(1, base // 2) if index == 2 else generator.randint(1, base), order


def _check_prefix_cache(result: dict[str, Any]) -> dict[str, Any]:
    counters = result.get("prefix_cache") or {}
    hits, queries = counters.get("hits"), counters.get("queries")
    if not isinstance(hits, int) or not isinstance(queries, int):
        raise RunError(
            "vLLM did not report its prefix-cache counters, so the run cannot show "
            "that no cached prompt was reused; nothing was stored. Use a vLLM "
            "release that exposes prefix_cache_queries and prefix_cache_hits"
        )
    if hits > 0:
        raise RunError(
            f"vLLM reported {hits} prefix-cache hits in {queries} queries although "
            "prefix caching was off, so the scores may reflect cached state; the "
            "result was rejected and nothing was stored"
        )
    return {"queries": queries, "hits": hits, "enable_prefix_caching": False}


def _score(
    cfg: Config,
    scorers: dict[str, scoring.Scorer],
    prepared: Prepared,
    outputs: dict[str, dict[str, Any]],
    lock: dict[str, Any],
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    datasets = {spec.name: lock["evals"][spec.name]["dataset"] for spec in cfg.evals}
    rows: list[dict[str, Any]] = []
    per_eval: dict[str, list[float]] = {spec.name: [] for spec in cfg.evals}
    for request, item, name in zip(
        prepared.requests, prepared.items, prepared.eval_of, strict=True
    ):
        output = outputs[request["key"]]
        value = scorers[name](output["text"], item)
        per_eval[name].append(value)
        manifest = lock["datasets"][datasets[name]]["items"]
        rows.append(
            {
                "eval": name,
                "key": item["__key__"],
                "item_digest": manifest.get(item["__key__"]),
                "prompt": request["prompt"],
                "output": output["text"],
                "finish_reason": output.get("finish_reason"),
                "seed": request["seed"],
                "score": value,
            }
        )
    evals = {
        spec.name: {
            "score": statistics.fmean(per_eval[spec.name]),
            "count": len(per_eval[spec.name]),
            "scorer": spec.scorer,
            "dataset": datasets[spec.name],
        }
        for spec in cfg.evals
    }
    return rows, evals


def _noise(
    attempts: list[dict[str, dict[str, Any]]],
    scores: list[float],
    variants: list[int],
) -> dict[str, Any] | None:
    if len(attempts) < 2:
        return None
    first = attempts[0]
    changed = sum(
        1
        for key, output in first.items()
        if any(other[key]["text"] != output["text"] for other in attempts[1:])
    )
    return {
        "repeats": len(attempts),
        "max_num_seqs": variants,
        "changed_items": changed,
        "changed_share": changed / len(first),
        "scores": scores,
        "score_min": min(scores),
        "score_max": max(scores),
        "score_stdev": statistics.pstdev(scores),
    }


def _outputs_by_key(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["key"]: row for row in result.get("outputs", [])}


def _mean_score(evals: dict[str, Any]) -> float:
    return statistics.fmean(entry["score"] for entry in evals.values())


def execute(project: Project, options: Options) -> tuple[str, dict[str, Any]]:
    """Run one cold evaluation and store it; return the run id and record."""
    started = time.monotonic()
    created = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    cfg = locking.load_config(project)
    outcome = locking.verify(project)
    if outcome.changes and not options.allow_drift:
        raise DriftRefused(outcome.changes)
    lock = outcome.lock
    lock["software"] = fingerprint.with_digest(environment.software())
    lock["hardware"] = fingerprint.with_digest(environment.hardware())
    folder = fingerprint.checkpoint_folder(project, cfg)
    prepared = prepare(project, cfg, lock)
    # Scorers are loaded before the worker starts, so that a broken Python
    # scorer fails in a second instead of after model load and generation.
    scorers = {
        spec.name: scoring.build(spec.scorer, spec.answer_field, project.root)
        for spec in cfg.evals
    }
    timeout = options.timeout or cfg.timeout
    base = options.max_num_seqs_override or int(cfg.engine["max_num_seqs"])

    attempts: list[dict[str, dict[str, Any]]] = []
    variants: list[int] = []
    scores: list[float] = []
    first: launch.WorkerResult | None = None
    counters: dict[str, Any] = {}
    for index in range(max(1, options.repeat)):
        seqs, order = _variant(index, base, len(prepared.requests))
        requests = [prepared.requests[i] for i in order]
        job = build_job(cfg, folder, requests, seqs)
        if options.on_event is not None:
            options.on_event(
                {
                    "event": "attempt",
                    "index": index + 1,
                    "of": max(1, options.repeat),
                    "max_num_seqs": seqs,
                }
            )
        worker = launch.run_worker(job, timeout, cfg.cpu_kv_cache_gib, options.on_event)
        counters = _check_prefix_cache(worker.result)
        outputs = _outputs_by_key(worker.result)
        missing = [r["key"] for r in requests if r["key"] not in outputs]
        if missing:
            raise RunError(
                f"the vLLM worker returned no output for {len(missing)} prompts "
                f"(first: {missing[0]}); nothing was stored"
            )
        attempts.append(outputs)
        variants.append(seqs)
        rows, evals = _score(cfg, scorers, prepared, outputs, lock)
        scores.append(_mean_score(evals))
        if first is None:
            first = worker
            first_rows, first_evals, first_counters = rows, evals, counters
    assert first is not None

    after, _ = locking.current(project)
    moved = compare_locks(lock, after, fingerprint.INPUT_COMPONENTS)
    if moved:
        names = ", ".join(sorted({c.path or c.setting or c.component for c in moved}))
        raise RunError(
            f"inputs changed while the run was going ({names}), so its result was "
            "rejected and nothing was stored; rerun once the edits are done"
        )

    run_id = store.new_run_id()
    result = first.result
    record: dict[str, Any] = {
        "record_version": store.RECORD_VERSION,
        "id": run_id,
        "created": created,
        "status": "valid",
        "invalid_reasons": [],
        "drifted": bool(outcome.changes),
        "drift": [change.to_json() for change in outcome.changes],
        "score": _mean_score(first_evals),
        "evals": first_evals,
        "noise": _noise(attempts, scores, variants),
        "prefix_cache": first_counters,
        "engine_args": result.get("engine_args", {}),
        "sampling": dict(cfg.sampling),
        "generation_config_applied": result.get("generation_config_applied"),
        "sampling_defaults_from_model": result.get("sampling_defaults_from_model", {}),
        "topology": result.get("topology", {}),
        "versions": result.get("versions", {}),
        "software": lock["software"],
        "hardware": lock["hardware"],
        "environment": recorded_environment(dict(os.environ)),
        "worker": {"command": first.command, "environment": first.environment},
        "host": socket.gethostname(),
        "source": _source_state(project),
        "timings": {
            "total_s": round(time.monotonic() - started, 3),
            "worker_s": round(first.seconds, 3),
            **{k: v for k, v in result.get("timings", {}).items()},
        },
    }
    store.append(project, record, first_rows, lockfile.dumps(lock), lock)
    return run_id, record
