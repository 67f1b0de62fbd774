"""The shipped ``.pre-commit-hooks.yaml`` under the real pre-commit framework.

The framework installs a hook repository by cloning it at a revision and
pip-installing it into a virtual environment of its own. The test therefore
commits a snapshot of this repository's package files (with fixed commit
dates, so the revision changes only when the files do) and points a real
``.pre-commit-config.yaml`` at it. The first run downloads evallock's
dependencies from PyPI (about 20 s); the framework's cache lives in pytest's
cache folder, so later runs reuse it until the package files change.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from helpers.cli import run_cli
from helpers.project import git, make_project

REPOSITORY = Path(__file__).resolve().parent.parent
MANIFEST = REPOSITORY / ".pre-commit-hooks.yaml"
PACKAGE_FILES = ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "evallock")
FIXED_DATE = "2025-01-01T00:00:00+00:00"


def precommit() -> str:
    return str(Path(sys.executable).parent / "pre-commit")


def shipped_hook() -> dict[str, object]:
    hooks = yaml.safe_load(MANIFEST.read_text())
    return next(hook for hook in hooks if hook["id"] == "evallock-verify")


def test_manifest_validates() -> None:
    done = subprocess.run(
        [precommit(), "validate-manifest", str(MANIFEST)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_manifest_hook_runs_verify_staged() -> None:
    hook = shipped_hook()
    assert hook["entry"] == "evallock verify --staged"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False
    assert hook["always_run"] is True


def snapshot_repository(target: Path) -> str:
    """Commit this repository's package files into *target*; return the revision."""
    for name in PACKAGE_FILES:
        source = REPOSITORY / name
        if source.is_dir():
            shutil.copytree(
                source, target / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    env = {
        **os.environ,
        "GIT_AUTHOR_DATE": FIXED_DATE,
        "GIT_COMMITTER_DATE": FIXED_DATE,
        "GIT_AUTHOR_NAME": "Snapshot",
        "GIT_AUTHOR_EMAIL": "snapshot@example.com",
        "GIT_COMMITTER_NAME": "Snapshot",
        "GIT_COMMITTER_EMAIL": "snapshot@example.com",
    }
    for args in (
        ["init", "-q", "-b", "main"],
        ["add", "-A"],
        ["commit", "-q", "-m", "Snapshot"],
    ):
        subprocess.run(["git", *args], cwd=target, env=env, check=True)
    return git(target, "rev-parse", "HEAD").strip()


def commit(root: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "commit", "-q", "-m", "Edit the system prompt"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )


@pytest.mark.network
def test_framework_stops_then_accepts_commit(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # A fixed path and a fixed revision let the framework reuse its environment.
    snapshot = request.config.cache.mkdir("pre-commit-snapshot") / "evallock"
    shutil.rmtree(snapshot, ignore_errors=True)
    revision = snapshot_repository(snapshot)
    root = make_project(tmp_path / "repo")
    assert run_cli(root, "-q", "lock").code == 0
    config = {
        "repos": [
            {
                "repo": str(snapshot),
                "rev": revision,
                "hooks": [{"id": "evallock-verify"}],
            }
        ]
    }
    (root / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    git(root, "add", "-A")
    git(root, "commit", "-q", "--no-verify", "-m", "Lock inputs")
    home = request.config.cache.mkdir("pre-commit-home")
    env = {**os.environ, "PRE_COMMIT_HOME": str(home)}
    subprocess.run(
        [precommit(), "install"], cwd=root, env=env, check=True, capture_output=True
    )
    (root / "prompts" / "system.txt").write_text("Answer in words.\n")
    git(root, "add", "prompts/system.txt")

    stopped = commit(root, env)
    assert stopped.returncode != 0
    assert "evallock-verify" in stopped.stdout + stopped.stderr
    assert "modified prompts/system.txt" in stopped.stdout + stopped.stderr

    assert run_cli(root, "-q", "lock").code == 0
    git(root, "add", "eval.lock")
    accepted = commit(root, env)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
