"""``evallock show RUN``: one stored run in full."""

from __future__ import annotations

import argparse
import json

from evallock import store
from evallock.commands import add_format, count, project_of, run_id
from evallock.records import check_record


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "run_id", metavar="RUN", type=run_id, help="run id (or a unique prefix)"
    )
    parser.add_argument(
        "--items",
        type=count,
        default=20,
        metavar="N",
        help="show the first N items in text output (default: 20; 0 for none)",
    )
    add_format(parser, ("text", "json"))


def run(args: argparse.Namespace) -> int:
    project = project_of(args)
    stored = store.load(project, args.run_id)
    check_record(stored)
    if args.format == "json":
        print(
            json.dumps(
                {
                    "id": stored.id,
                    "commit": stored.commit,
                    "record": stored.record,
                    "items": stored.items,
                },
                indent=2,
            )
        )
        return 0
    _print_summary(stored)
    _print_settings(stored)
    if args.items:
        _print_items(stored, args.items)
    return 0


def _print_summary(stored: store.Run) -> None:
    record = stored.record
    print(f"run {stored.id}  ({record['created']}, commit {stored.commit[:12]})")
    print(f"score      {record['score']:.4f}")
    for name, entry in record["evals"].items():
        print(
            f"  {name}: {entry['score']:.4f} on {entry['count']} items "
            f"({entry['scorer']}, {entry['dataset']})"
        )
    source = record.get("source", {})
    print(
        f"source     {source.get('commit') or 'no commit'}"
        f"{' (dirty)' if source.get('dirty') else ''}"
    )
    print(f"checkpoint {stored.lock.get('checkpoint', {}).get('source')}")
    cache = record["prefix_cache"]
    print(f"prefix cache  {cache['hits']} hits in {cache['queries']} queries (off)")
    applied = record.get("generation_config_applied")
    print(f"generation config applied: {'yes' if applied else 'no'}")


def _print_settings(stored: store.Run) -> None:
    record = stored.record
    engine = stored.lock.get("engine", {}).get("settings", {})
    print("engine     " + ", ".join(f"{k}={v}" for k, v in sorted(engine.items())))
    sampling = record.get("sampling", {})
    print("sampling   " + ", ".join(f"{k}={v}" for k, v in sorted(sampling.items())))
    hardware = record.get("hardware", {})
    print(
        f"hardware   {hardware.get('model') or hardware.get('cpu')} "
        f"({hardware.get('accelerator')})"
    )
    software = record.get("software", {})
    print(
        f"software   vllm {software.get('vllm')}, torch {software.get('torch')}, "
        f"transformers {software.get('transformers')}"
    )
    timings = record.get("timings", {})
    print("timings    " + ", ".join(f"{k}={v}" for k, v in sorted(timings.items())))
    if record.get("noise"):
        noise = record["noise"]
        print(
            f"noise      {noise['repeats']} runs, {noise['changed_share']:.1%} of "
            f"outputs changed, score {noise['score_min']:.4f}..{noise['score_max']:.4f}"
        )
    if record.get("drifted"):
        print(f"drifted    {len(record.get('drift', []))} change(s) against eval.lock")


def _print_items(stored: store.Run, limit: int) -> None:
    print("items")
    for row in stored.items[:limit]:
        mark = "✓" if row["score"] >= 1 else "✗"
        print(
            f"  {mark} {row['eval']}/{row['key']}  {row['prompt']!r} → "
            f"{row['output']!r}  score {row['score']:g}"
        )
    if len(stored.items) > limit:
        print(f"  … {len(stored.items) - limit} more (use --items N or --format json)")
