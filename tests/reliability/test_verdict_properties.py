"""Properties of the comparison verdict, over random drift and random policies.

The base run is a real stored run of a locked project. Each example changes
a random set of its components the way a new lock would (the component's
digest changes with its content) and picks a random ``[compare]`` policy.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest
from helpers.runs import locked_project, store_run
from hypothesis import given, settings
from hypothesis import strategies as st

from evallock import compare, store
from evallock.gitrepo import find_project

RESAMPLES = 50
COMPONENT_NAMES = (
    "checkpoint",
    "prompts",
    "engine",
    "sampling",
    "datasets",
    "hardware",
    "software",
    "scorer",
    "evals",
)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> store.Run:
    project = locked_project(tmp_path_factory.mktemp("verdict") / "repo")
    store_run(project, "ba5e0001")
    return store.load(find_project(project.root), "ba5e0001")


def _engine(run: store.Run, value: int) -> None:
    run.lock["engine"]["settings"]["max_num_seqs"] = value
    run.lock["engine"]["digest"] = f"engine-{value}"


def _sampling(run: store.Run, value: int) -> None:
    run.lock["sampling"]["settings"]["temperature"] = value / 10
    run.lock["sampling"]["digest"] = f"sampling-{value}"


def _prompt(run: store.Run, value: int) -> None:
    entry = run.lock["prompts"]["files"]["prompts/system.txt"]
    entry["digest"] = f"{value:032x}"
    entry["text"] = f"{value:032x}"
    run.lock["prompts"]["digest"] = f"prompts-{value}"


def _weights(run: store.Run, value: int) -> None:
    weights = run.lock["checkpoint"]["weights"]
    weights["digest"] = f"weights-{value}"
    files = weights.get("files", {})
    for name in files:
        files[name] = f"{value:032x}"
    run.lock["checkpoint"]["digest"] = f"checkpoint-{value}"


def _hardware(run: store.Run, value: int) -> None:
    run.lock["hardware"]["cpu"] = f"CPU model {value}"
    run.lock["hardware"]["digest"] = f"hardware-{value}"


def _trim_items(run: store.Run, value: int) -> None:
    dataset = run.lock["evals"]["addition"]["dataset"]
    entry = run.lock["datasets"][dataset]
    keep = sorted(entry["items"])[value % 5 + 1 :]
    entry["items"] = {key: entry["items"][key] for key in keep}
    entry["digest"] = f"items-{len(keep)}"
    run.items[:] = [row for row in run.items if row["key"] in keep]


def _resolved(run: store.Run, value: int) -> None:
    run.record["engine_args"]["max_num_seqs"] = value


MUTATIONS: dict[str, Callable[[store.Run, int], None]] = {
    "engine": _engine,
    "sampling": _sampling,
    "prompts": _prompt,
    "checkpoint": _weights,
    "hardware": _hardware,
    "datasets": _trim_items,
    "resolved": _resolved,
}


def _variant(base: store.Run, changes: dict[str, int], run_id: str) -> store.Run:
    run = store.Run(
        run_id,
        "0" * 40,
        copy.deepcopy(base.record),
        copy.deepcopy(base.items),
        copy.deepcopy(base.lock),
    )
    for name, value in changes.items():
        MUTATIONS[name](run, value)
    return run


changes_strategy = st.dictionaries(
    st.sampled_from(sorted(MUTATIONS)), st.integers(65, 300), max_size=len(MUTATIONS)
)
policies = st.builds(
    compare.Policy,
    under_test=st.lists(st.sampled_from(COMPONENT_NAMES), unique=True).map(tuple),
    ignore=st.lists(st.sampled_from(COMPONENT_NAMES), unique=True).map(tuple),
)


def _verdict(a: store.Run, b: store.Run, policy: compare.Policy) -> str:
    return compare.compare_runs(a, b, policy, RESAMPLES, 0).verdict


@settings(max_examples=60, deadline=None)
@given(changes=changes_strategy, policy=policies)
def test_verdict_of_run_with_itself_identical(
    base: store.Run, changes: dict[str, int], policy: compare.Policy
) -> None:
    run = _variant(base, changes, "a0000001")

    assert _verdict(run, run, policy) == compare.IDENTICAL


@settings(max_examples=60, deadline=None)
@given(changes=changes_strategy, policy=policies)
def test_verdict_symmetric_under_swap(
    base: store.Run, changes: dict[str, int], policy: compare.Policy
) -> None:
    changed = _variant(base, changes, "b0000001")

    assert _verdict(base, changed, policy) == _verdict(changed, base, policy)


@settings(max_examples=60, deadline=None)
@given(changes=changes_strategy, policy=policies)
def test_verdict_drifted_components_symmetric(
    base: store.Run, changes: dict[str, int], policy: compare.Policy
) -> None:
    changed = _variant(base, changes, "b0000002")
    forward = compare.compare_runs(base, changed, policy, RESAMPLES, 0)
    backward = compare.compare_runs(changed, base, policy, RESAMPLES, 0)

    assert sorted(c.name for c in forward.drift) == sorted(
        c.name for c in backward.drift
    )


@settings(max_examples=60, deadline=None)
@given(changes=changes_strategy)
def test_verdict_ignoring_everything_identical(
    base: store.Run, changes: dict[str, int]
) -> None:
    changed = _variant(base, changes, "b0000003")
    policy = compare.Policy(under_test=(), ignore=COMPONENT_NAMES)

    assert _verdict(base, changed, policy) == compare.IDENTICAL


@settings(max_examples=60, deadline=None)
@given(changes=changes_strategy.filter(bool), policy=policies)
def test_verdict_any_unignored_change_not_identical(
    base: store.Run, changes: dict[str, int], policy: compare.Policy
) -> None:
    changed = _variant(base, changes, "b0000004")
    touched = {"resolved": "engine"}
    components = {touched.get(name, name) for name in changes}
    if components <= set(policy.ignore):
        return

    assert _verdict(base, changed, policy) != compare.IDENTICAL


def test_verdict_properties_reach_every_verdict(base: store.Run) -> None:
    policy = compare.Policy(under_test=("checkpoint",), ignore=())
    seen = {
        _verdict(base, _variant(base, changes, "c0000001"), policy)
        for changes in ({}, {"checkpoint": 70}, {"datasets": 70}, {"engine": 70})
    }

    assert seen == {
        compare.IDENTICAL,
        compare.COMPARABLE,
        compare.SUBSET,
        compare.DRIFTED,
    }
