"""``evallock init``."""

from __future__ import annotations

from pathlib import Path

from helpers.cli import run_cli
from helpers.project import init_repo, make_project

from evallock import config, scaffold


def test_init_scaffold_parses_on_empty_repo(tmp_path: Path) -> None:
    init_repo(tmp_path)
    result = run_cli(tmp_path, "init")
    assert result.code == 0
    text = (tmp_path / ".evallock.toml").read_text()
    assert config.load_text(text).checkpoint == "models/CHANGE-ME"
    assert "edit the CHANGE-ME values" in result.stdout


def test_init_finds_project_inputs_and_locks(tmp_path: Path) -> None:
    root = make_project(tmp_path / "repo")
    (root / ".evallock.toml").unlink()
    assert run_cli(root, "init").code == 0
    loaded = config.load(str(root))
    assert loaded.checkpoint == "model"
    assert loaded.evals[0].dataset == "data/addition.jsonl"
    assert loaded.evals[0].template == "prompts/addition.jinja"
    assert loaded.evals[0].prompts == ("prompts/**/*.txt",)
    assert run_cli(root, "lock").code == 0


def test_init_never_overwrites(tmp_path: Path) -> None:
    root = make_project(tmp_path / "repo")
    before = (root / ".evallock.toml").read_bytes()
    result = run_cli(root, "init")
    assert result.code == 2
    assert "already exists and init never overwrites it" in result.stderr
    assert (root / ".evallock.toml").read_bytes() == before


def test_init_outside_git_rejected(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "init")
    assert result.code == 2
    assert "not inside a git repository" in result.stderr
    assert not (tmp_path / ".evallock.toml").exists()


def test_init_eval_names_made_valid() -> None:
    found = scaffold.Found(datasets=["data/my set.jsonl", "other/my set.jsonl"])
    loaded = config.load_text(scaffold.render(found))
    assert [spec.name for spec in loaded.evals] == ["my-set", "my-set-2"]


def test_init_prompt_patterns_match_found_files(tmp_path: Path) -> None:
    init_repo(tmp_path)
    for path in (
        "prompt.txt",
        "requirements.txt",
        "prompts/a.txt",
        "prompts/shots/b.txt",
        "prompts/shots/c.md",
        "prompts/README.md",
    ):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("x\n")
    found = scaffold.survey(str(tmp_path))
    assert found.prompt_patterns == [
        "prompt.txt",
        "prompts/**/*.txt",
        "prompts/shots/**/*.md",
    ]
