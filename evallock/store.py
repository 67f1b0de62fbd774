"""The result store: one git commit per run on ``refs/evallock/results``.

Each commit's tree holds one run: ``record.json`` (settings, environment,
scores, timings), ``items.jsonl`` (per-item prompts, outputs and scores) and
``eval.lock`` (the lock the run used). Its parent is the previous tip, so
the ref's history is the run history, and ``git push`` of the ref shares it.

Commits are written with plumbing (``hash-object``, ``mktree``,
``commit-tree``) and published with ``update-ref NEW OLD``, which is a
compare-and-swap: when another run moved the ref first, the commit is
rebuilt on the new tip and retried, so concurrent runs never lose each
other's results. The working tree, the index and branches are never touched.

The commit message carries a one-line JSON summary (id, time, score,
component digests) so that listing 10,000 runs needs one ``git log`` call and
no blob reads.
"""

from __future__ import annotations

import json
import logging
import secrets
import subprocess
import time
from dataclasses import dataclass
from typing import Any

import git

from evallock.errors import StoreError
from evallock.gitrepo import Project

log = logging.getLogger(__name__)

RESULTS_REF = "refs/evallock/results"
RECORD_VERSION = 1
SUMMARY_MARK = "evallock-summary: "
MAX_CAS_ATTEMPTS = 50
# Bounds on what a stored record may make evallock read: a record from an
# untrusted remote must not exhaust memory.
MAX_RECORD_BYTES = 64 * 1024 * 1024
AUTHOR = ("evallock", "evallock@localhost")


@dataclass(frozen=True)
class RunSummary:
    """A run's listing fields, read from its commit message alone."""

    id: str
    commit: str
    data: dict[str, Any]

    @property
    def score(self) -> float | None:
        value = self.data.get("score")
        return float(value) if isinstance(value, (int, float)) else None


@dataclass(frozen=True)
class Run:
    """A stored run, fully loaded."""

    id: str
    commit: str
    record: dict[str, Any]
    items: list[dict[str, Any]]
    lock: dict[str, Any]


def new_run_id() -> str:
    return secrets.token_hex(4)


def _git(project: Project, *args: str, stdin: bytes | None = None) -> str:
    """Run git plumbing in the repository; raise StoreError with its output."""
    done = subprocess.run(
        ["git", *args],
        cwd=project.top,
        input=stdin,
        capture_output=True,
        check=False,
        env=_git_env(),
    )
    if done.returncode != 0:
        raise StoreError(
            f"git {' '.join(args[:2])} failed while writing the result store "
            f"(exit {done.returncode}): {done.stderr.decode(errors='replace').strip()}"
        )
    return done.stdout.decode()


def _git_env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    env.update(
        GIT_AUTHOR_NAME=AUTHOR[0],
        GIT_AUTHOR_EMAIL=AUTHOR[1],
        GIT_COMMITTER_NAME=AUTHOR[0],
        GIT_COMMITTER_EMAIL=AUTHOR[1],
    )
    return env


def _tip(project: Project) -> str | None:
    """Return the commit the results ref points to, or None when there is none.

    The object id and its type come from one git call, so a concurrent run
    that creates the ref in between cannot make a commit look like a blob.
    """
    done = subprocess.run(
        ["git", "for-each-ref", "--format=%(objectname) %(objecttype)", RESULTS_REF],
        cwd=project.top,
        capture_output=True,
        text=True,
        check=False,
    )
    found = done.stdout.split()
    if len(found) != 2:
        return None
    if found[1] != "commit":
        raise StoreError(
            f"{RESULTS_REF} points to a {found[1]}, not a commit, so no run can be "
            f"read or stored; inspect it with `git cat-file -p {RESULTS_REF}` and "
            "delete it with `git update-ref -d` if it is not yours"
        )
    return found[0]


def summary_of(record: dict[str, Any], lock: dict[str, Any]) -> dict[str, Any]:
    """Return the fields a listing needs, small enough for a commit message."""
    digests = {
        name: table.get("digest")
        for name, table in lock.items()
        if isinstance(table, dict) and "digest" in table
    }
    digests["datasets"] = {
        path: entry.get("digest") for path, entry in lock.get("datasets", {}).items()
    }
    return {
        "id": record["id"],
        "created": record["created"],
        "score": record.get("score"),
        "evals": {
            name: {"score": entry.get("score"), "count": entry.get("count")}
            for name, entry in record.get("evals", {}).items()
        },
        "status": record.get("status"),
        "drifted": record.get("drifted", False),
        "source_commit": record.get("source", {}).get("commit"),
        "dirty": record.get("source", {}).get("dirty"),
        "checkpoint": lock.get("checkpoint", {}).get("source"),
        "noise": record.get("noise"),
        # Copied so that listings can apply records.invalid_reasons without
        # reading the record blob.
        "record_version": record.get("record_version"),
        "prefix_cache": record.get("prefix_cache"),
        "invalid_reasons": record.get("invalid_reasons", []),
        "digests": digests,
    }


def append(
    project: Project,
    record: dict[str, Any],
    items: list[dict[str, Any]],
    lock_text: str,
    lock: dict[str, Any],
) -> str:
    """Store one run as a commit on the results ref; return the commit id."""
    record_blob = _hash_object(project, json.dumps(record, indent=1, sort_keys=True))
    items_blob = _hash_object(
        project,
        "".join(
            json.dumps(item, sort_keys=True, ensure_ascii=False) + "\n"
            for item in items
        ),
    )
    lock_blob = _hash_object(project, lock_text)
    tree_spec = (
        f"100644 blob {lock_blob}\teval.lock\n"
        f"100644 blob {items_blob}\titems.jsonl\n"
        f"100644 blob {record_blob}\trecord.json\n"
    )
    tree = _git(project, "mktree", stdin=tree_spec.encode()).strip()
    summary = json.dumps(summary_of(record, lock), sort_keys=True)
    score = record.get("score")
    shown = f"{score:.4f}" if isinstance(score, (int, float)) else "n/a"
    message = f"evallock run {record['id']}: score {shown}\n\n{SUMMARY_MARK}{summary}\n"
    for attempt in range(1, MAX_CAS_ATTEMPTS + 1):
        parent = _tip(project)
        parents = ["-p", parent] if parent else []
        commit = _git(
            project, "commit-tree", tree, *parents, stdin=message.encode()
        ).strip()
        old = parent or "0" * 40
        done = subprocess.run(
            [
                "git",
                "update-ref",
                "-m",
                f"evallock run {record['id']}",
                RESULTS_REF,
                commit,
                old,
            ],
            cwd=project.top,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode == 0:
            log.info("stored run %s as commit %s", record["id"], commit)
            return commit
        log.debug(
            "results ref moved while storing run %s (attempt %d): %s",
            record["id"],
            attempt,
            done.stderr.strip(),
        )
        time.sleep(0.01 * attempt)
    raise StoreError(
        f"could not update {RESULTS_REF} after {MAX_CAS_ATTEMPTS} attempts because "
        "other runs kept moving it; rerun `evallock run`"
    )


def _hash_object(project: Project, text: str) -> str:
    return _git(project, "hash-object", "-w", "--stdin", stdin=text.encode()).strip()


def list_runs(project: Project, limit: int | None = None) -> list[RunSummary]:
    """Return stored runs, newest first, from commit messages only."""
    if _tip(project) is None:
        if project.is_shallow:
            # A shallow CI clone usually lacks the results ref, so an empty
            # list would wrongly report that no run was ever stored.
            raise StoreError(
                f"{RESULTS_REF} is not in this clone, which is shallow; run `git "
                "fetch --unshallow` and `git fetch origin "
                "'refs/evallock/*:refs/evallock/*'`, then retry"
            )
        return []
    args = ["log", "--format=%H%x00%B%x1e", RESULTS_REF]
    if limit is not None:
        args.insert(1, f"--max-count={limit}")
    output = _git(project, *args)
    runs: list[RunSummary] = []
    for chunk in output.split("\x1e"):
        chunk = chunk.strip("\n")
        if not chunk:
            continue
        commit, _, body = chunk.partition("\x00")
        if body.startswith(MERGE_SUBJECT):
            continue
        summary = _parse_summary(body)
        if summary is None:
            log.warning("skipping commit %s on %s: no run summary", commit, RESULTS_REF)
            continue
        runs.append(RunSummary(str(summary.get("id")), commit, summary))
    return runs


def _parse_summary(body: str) -> dict[str, Any] | None:
    for line in body.splitlines():
        if line.startswith(SUMMARY_MARK):
            try:
                data = json.loads(line[len(SUMMARY_MARK) :])
            except (json.JSONDecodeError, RecursionError):
                return None
            return data if isinstance(data, dict) else None
    return None


def find(project: Project, name: str) -> RunSummary:
    """Return the run whose id is *name* or starts with it."""
    matches = [run for run in list_runs(project) if run.id.startswith(name)]
    if not matches:
        raise StoreError(
            f"no stored run has id {name!r}; list runs with `evallock log`"
        )
    exact = [run for run in matches if run.id == name]
    if exact:
        return exact[0]
    if len(matches) > 1:
        ids = ", ".join(run.id for run in matches[:5])
        raise StoreError(f"run id {name!r} is ambiguous ({ids}); give more characters")
    return matches[0]


def _read_blob(project: Project, commit: str, name: str) -> bytes:
    try:
        blob = project.repo.commit(commit).tree / name
    except (KeyError, ValueError, git.BadName):
        raise StoreError(
            f"stored run commit {commit[:12]} has no {name}; the result store is "
            "damaged or was written by another tool"
        ) from None
    if blob.size > MAX_RECORD_BYTES:
        raise StoreError(
            f"{name} of stored run commit {commit[:12]} is {blob.size} bytes, over the "
            f"{MAX_RECORD_BYTES}-byte limit; refusing to load it"
        )
    data: bytes = blob.data_stream.read()
    return data


def load(project: Project, name: str) -> Run:
    """Load one run completely: record, items and lock."""
    return load_summary(project, find(project, name))


def load_summary(project: Project, summary: RunSummary) -> Run:
    """Load a listed run without listing the store again."""
    from evallock import lockfile

    try:
        record = json.loads(_read_blob(project, summary.commit, "record.json"))
        items = [
            json.loads(line)
            for line in _read_blob(project, summary.commit, "items.jsonl").splitlines()
            if line.strip()
        ]
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as error:
        reason = "nested too deeply" if isinstance(error, RecursionError) else error
        raise StoreError(
            f"stored run {summary.id} has a malformed record ({reason}); it cannot be "
            "shown or compared"
        ) from None
    problem = _items_problem(items)
    if problem is not None:
        raise StoreError(
            f"stored run {summary.id} has a malformed items.jsonl ({problem}); it "
            "cannot be shown or compared"
        )
    lock_text = _read_blob(project, summary.commit, "eval.lock").decode(
        "utf-8", "replace"
    )
    lock = lockfile.loads(lock_text, f"eval.lock of run {summary.id}")
    if not isinstance(record, dict):
        raise StoreError(f"stored run {summary.id} has a malformed record.json")
    return Run(summary.id, summary.commit, record, items, lock)


def _items_problem(items: list[Any]) -> str | None:
    """Return what is wrong with the first bad per-item row, or None."""
    for number, row in enumerate(items, 1):
        if not isinstance(row, dict):
            return f"line {number} is not a JSON object"
        if not isinstance(row.get("eval"), str) or not isinstance(row.get("key"), str):
            return f"line {number} has no string 'eval' and 'key'"
        score = row.get("score")
        if not isinstance(score, (int, float)) or isinstance(score, bool):
            return f"line {number} has no numeric 'score'"
    return None


def lock_of_run(project: Project, name: str) -> dict[str, Any] | None:
    """Return the lock a run used, or None when *name* is not a run id."""
    if _tip(project) is None:
        return None
    matches = [run for run in list_runs(project) if run.id.startswith(name)]
    if len(matches) != 1:
        return None
    return load(project, matches[0].id).lock


MERGE_SUBJECT = "evallock merge of stored runs"


def merge_incoming(top: str, incoming_ref: str) -> None:
    """Join a fetched results history with the local one, losing neither.

    Runs are independent commits, so two histories join with a merge commit
    whose tree is empty; listing walks both parents.
    """

    def git_out(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            ["git", *args],
            cwd=top,
            capture_output=True,
            text=True,
            check=False,
            env=_git_env(),
        )
        if check and done.returncode != 0:
            raise StoreError(
                f"git {args[0]} failed while merging results: {done.stderr.strip()}"
            )
        return done

    remote = git_out("rev-parse", "--verify", "--quiet", incoming_ref, check=False)
    remote_tip = remote.stdout.strip()
    if not remote_tip:
        return
    for _ in range(MAX_CAS_ATTEMPTS):
        local = git_out("rev-parse", "--verify", "--quiet", RESULTS_REF, check=False)
        local_tip = local.stdout.strip()
        if local_tip:
            behind = git_out(
                "merge-base", "--is-ancestor", remote_tip, local_tip, check=False
            )
            if behind.returncode == 0:
                return
            ahead = git_out(
                "merge-base", "--is-ancestor", local_tip, remote_tip, check=False
            )
            if ahead.returncode == 0:
                new = remote_tip
            else:
                empty = git_out("mktree").stdout.strip()
                new = git_out(
                    "commit-tree",
                    empty,
                    "-p",
                    local_tip,
                    "-p",
                    remote_tip,
                    "-m",
                    MERGE_SUBJECT,
                ).stdout.strip()
        else:
            new = remote_tip
        old = local_tip or "0" * 40
        if git_out("update-ref", RESULTS_REF, new, old, check=False).returncode == 0:
            return
    raise StoreError(f"could not update {RESULTS_REF} while merging fetched results")
