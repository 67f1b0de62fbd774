"""``evallock verify --staged``: the git index, not the working tree, is checked."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers.cli import run_cli
from helpers.project import git, make_project

FIX = "evallock lock && git add eval.lock"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A committed project with a committed lock; the current folder is its root."""
    root = make_project(tmp_path / "repo")
    assert run_cli(root, "-q", "lock").code == 0
    git(root, "add", "eval.lock")
    git(root, "commit", "-q", "-m", "Lock inputs")
    monkeypatch.chdir(root)
    return root


def twenty_lines(root: Path) -> None:
    """Give system.txt 20 lines, so edits at both ends are separate hunks."""
    text = "".join(f"line{n}\n" for n in range(1, 21))
    (root / "prompts" / "system.txt").write_text(text)
    assert run_cli(root, "-q", "lock").code == 0
    git(root, "commit", "-q", "-am", "Longer system prompt")


def stage_first_hunk_only(root: Path) -> None:
    path = root / "prompts" / "system.txt"
    text = (
        path.read_text().replace("line1\n", "LINE1\n").replace("line20\n", "LINE20\n")
    )
    path.write_text(text)
    subprocess.run(
        ["git", "add", "-p", "prompts/system.txt"],
        cwd=root,
        input="y\nn\n",
        text=True,
        capture_output=True,
        check=True,
    )


def evallock_on_path() -> dict[str, str]:
    folder = os.path.dirname(shutil.which("evallock") or sys.executable)
    return {**os.environ, "PATH": folder + os.pathsep + os.environ["PATH"]}


def test_staged_unchanged_project_ok(project: Path) -> None:
    result = run_cli(project, "verify", "--staged")
    assert result.code == 0
    assert "ok" in result.stdout


def test_staged_edit_names_file_and_fix(project: Path) -> None:
    (project / "prompts" / "system.txt").write_text("Changed.\n")
    git(project, "add", "prompts/system.txt")
    result = run_cli(project, "verify", "--staged")
    assert result.code == 1
    assert "modified prompts/system.txt" in result.stdout
    assert f"run `{FIX}`" in result.stderr


def test_staged_ignores_unstaged_edit(project: Path) -> None:
    (project / "prompts" / "system.txt").write_text("Not staged.\n")
    assert run_cli(project, "verify", "--staged").code == 0
    assert run_cli(project, "verify").code == 1


def test_staged_after_lock_without_add(project: Path) -> None:
    (project / "prompts" / "system.txt").write_text("Changed.\n")
    git(project, "add", "prompts/system.txt")
    assert run_cli(project, "-q", "lock").code == 0
    result = run_cli(project, "verify", "--staged")
    assert result.code == 1
    assert "run `git add eval.lock`" in result.stderr
    git(project, "add", "eval.lock")
    assert run_cli(project, "verify", "--staged").code == 0


def test_staged_partial_file_names_both_fixes(project: Path) -> None:
    twenty_lines(project)
    stage_first_hunk_only(project)
    assert run_cli(project, "-q", "lock").code == 0  # hashes the working tree
    git(project, "add", "eval.lock")
    result = run_cli(project, "verify", "--staged")
    assert result.code == 1
    assert "modified prompts/system.txt" in result.stdout
    assert f"run `git add prompts/system.txt && {FIX}`" in result.stderr
    assert "git stash push --keep-index" in result.stderr


def test_staged_partial_recipe_commits_staged_part(project: Path) -> None:
    twenty_lines(project)
    stage_first_hunk_only(project)
    assert run_cli(project, "-q", "lock").code == 0
    git(project, "add", "eval.lock")
    stderr = run_cli(project, "verify", "--staged").stderr
    recipe = re.search(r"staged part instead, run `([^`]+)`, then `([^`]+)`", stderr)
    assert recipe is not None
    commands = f"{recipe.group(1)} -q -m 'Partial edit' && {recipe.group(2)}"
    done = subprocess.run(
        commands,
        shell=True,
        cwd=project,
        env=evallock_on_path(),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    committed = git(project, "show", "HEAD:prompts/system.txt")
    assert committed.startswith("LINE1\n")
    assert committed.endswith("line20\n")
    assert (project / "prompts" / "system.txt").read_text().endswith("LINE20\n")


def test_staged_partial_whole_file_fix(project: Path) -> None:
    twenty_lines(project)
    stage_first_hunk_only(project)
    done = subprocess.run(
        f"git add prompts/system.txt && {FIX}",
        shell=True,
        cwd=project,
        env=evallock_on_path(),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert run_cli(project, "verify", "--staged").code == 0


def test_staged_rename_reports_both_paths(project: Path) -> None:
    git(project, "mv", "prompts/fewshot/two.txt", "prompts/fewshot/three.txt")
    result = run_cli(project, "verify", "--staged")
    assert result.code == 1
    assert "removed prompts/fewshot/two.txt" in result.stdout
    assert "added prompts/fewshot/three.txt" in result.stdout
    assert run_cli(project, "-q", "lock").code == 0
    git(project, "add", "eval.lock")
    assert run_cli(project, "verify", "--staged").code == 0


def test_staged_deleted_prompt_is_removed(project: Path) -> None:
    git(project, "rm", "-q", "prompts/fewshot/one.txt")
    result = run_cli(project, "verify", "--staged")
    assert result.code == 1
    assert "removed prompts/fewshot/one.txt" in result.stdout


def test_staged_deletion_kept_on_disk(project: Path) -> None:
    git(project, "rm", "-q", "--cached", "prompts/fewshot/one.txt")
    result = run_cli(project, "verify", "--staged")
    assert result.code == 1
    assert "removed prompts/fewshot/one.txt" in result.stdout
    assert "git add prompts/fewshot/one.txt" in result.stderr


def test_staged_deleted_dataset_is_missing(project: Path) -> None:
    git(project, "rm", "-q", "--cached", "data/addition.jsonl")
    result = run_cli(project, "verify", "--staged")
    assert result.code == 2
    assert "data/addition.jsonl" in result.stderr


RACY_WINDOW_S = 2.1


def test_staged_unrelated_files_read_no_blob(project: Path) -> None:
    # The checkpoint is hashed from disk, and the stat cache distrusts files
    # changed just before hashing began (the racy-git rule). Waiting past
    # that window keeps a busy machine from turning this into a miss.
    time.sleep(RACY_WINDOW_S)
    assert run_cli(project, "verify", "--staged").code == 0  # fills the cache
    (project / "src").mkdir()
    (project / "src" / "main.py").write_text("print('hello')\n")
    git(project, "add", "src/main.py")
    result = run_cli(project, "-v", "verify", "--staged")
    assert result.code == 0
    assert any(re.search(r"stat cache: \d+ hits, 0 misses", d) for d in result.debug)


def test_staged_reads_git_index_file(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `git commit -a` runs hooks against a temporary index named by GIT_INDEX_FILE.
    (project / "prompts" / "system.txt").write_text("Committed with -a.\n")
    temporary = project / ".git" / "index.commit-a"
    shutil.copy(project / ".git" / "index", temporary)
    env = {**os.environ, "GIT_INDEX_FILE": str(temporary)}
    subprocess.run(["git", "add", "-u"], cwd=project, env=env, check=True)
    assert run_cli(project, "verify", "--staged").code == 0
    monkeypatch.setenv("GIT_INDEX_FILE", str(temporary))
    assert run_cli(project, "verify", "--staged").code == 1


def test_staged_symlink_reads_staged_target(project: Path) -> None:
    link = project / "prompts" / "fewshot" / "link.txt"
    link.symlink_to("one.txt")
    assert run_cli(project, "-q", "lock").code == 0
    git(project, "add", "-A")
    assert run_cli(project, "verify", "--staged").code == 0
    (project / "prompts" / "fewshot" / "one.txt").write_text("99+1=100\n")
    git(project, "add", "prompts/fewshot/one.txt")
    result = run_cli(project, "verify", "--staged")
    assert "modified prompts/fewshot/link.txt" in result.stdout


def test_staged_applies_checkout_eol_conversion(project: Path) -> None:
    (project / ".gitattributes").write_text("prompts/system.txt text eol=crlf\n")
    (project / "prompts" / "system.txt").write_bytes(b"Add.\r\nDigits.\r\n")
    assert run_cli(project, "-q", "lock").code == 0
    git(project, "add", "-A")
    blob = subprocess.run(
        ["git", "cat-file", "-p", ":prompts/system.txt"],
        cwd=project,
        capture_output=True,
        check=True,
    ).stdout
    assert blob == b"Add.\nDigits.\n"
    assert run_cli(project, "verify", "--staged").code == 0


def test_staged_crlf_lost_by_clean_filter(project: Path) -> None:
    # text=auto stores LF, and a Linux checkout writes LF: the locked CRLF
    # bytes would not survive the commit.
    (project / ".gitattributes").write_text("prompts/system.txt text=auto eol=lf\n")
    (project / "prompts" / "system.txt").write_bytes(b"Add.\r\nDigits.\r\n")
    assert run_cli(project, "-q", "lock").code == 0
    git(project, "add", "-A")
    result = run_cli(project, "verify", "--staged")
    assert result.code == 1
    assert "line endings changed (CRLF → LF)" in result.stdout


def test_staged_project_in_subfolder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    top = tmp_path / "mono"
    make_project(top / "evals")
    shutil.rmtree(top / "evals" / ".git")
    git(top, "init", "-q", "-b", "main")
    git(top, "add", "-A")
    assert run_cli(top / "evals", "-q", "lock").code == 0
    git(top, "add", "-A")
    (top / "evals" / "prompts" / "system.txt").write_text("Changed.\n")
    git(top, "add", "-A")
    monkeypatch.chdir(top)
    result = run_cli(top / "evals", "verify", "--staged")
    assert result.code == 1
    assert "run `evallock -C evals lock && git add evals/eval.lock`" in result.stderr
    github = run_cli(top / "evals", "verify", "--staged", "--format", "github")
    assert "::error file=evals/prompts/system.txt," in github.stdout


def test_staged_json_has_fix(project: Path) -> None:
    (project / "prompts" / "system.txt").write_text("Changed.\n")
    git(project, "add", "prompts/system.txt")
    data = run_cli(project, "verify", "--staged", "--format", "json").json()
    assert data["status"] == "drift"
    assert data["changes"][0]["path"] == "prompts/system.txt"
    assert data["fix"] == FIX


def test_staged_lock_not_staged_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_project(tmp_path / "repo")
    monkeypatch.chdir(root)
    result = run_cli(root, "verify", "--staged")
    assert result.code == 2
    assert "run `evallock lock && git add eval.lock`" in result.stderr
