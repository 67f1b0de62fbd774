from pathlib import Path

import pytest

from evallock.errors import InputError, RunError
from evallock.runner import scoring

ITEM = {"__key__": "k1", "answer": "42"}


def test_exact_match_strips_whitespace() -> None:
    score = scoring.build("exact_match", "answer", ".")
    assert score(" 42\n", ITEM) == 1.0
    assert score("421", ITEM) == 0.0


def test_includes_finds_substring() -> None:
    score = scoring.build("includes", "answer", ".")
    assert score("the answer is 42.", ITEM) == 1.0


def test_regex_uses_first_group() -> None:
    score = scoring.build(r"regex:answer: (\d+)", "answer", ".")
    assert score("answer: 42", ITEM) == 1.0
    assert score("no number", ITEM) == 0.0


def test_missing_answer_field_names_field() -> None:
    score = scoring.build("exact_match", "label", ".")
    with pytest.raises(InputError, match="'label'"):
        score("42", ITEM)


def test_python_scorer_called(tmp_path: Path) -> None:
    (tmp_path / "score.py").write_text(
        "def near(output, item):\n    return abs(int(output) - int(item['answer'])) < 2\n"
    )
    score = scoring.build("python:score.py:near", "answer", str(tmp_path))
    assert score("41", ITEM) == 1.0
    assert score("50", ITEM) == 0.0


def test_python_scorer_raising_names_item(tmp_path: Path) -> None:
    (tmp_path / "score.py").write_text(
        "def bad(output, item):\n    raise ValueError('x')\n"
    )
    score = scoring.build("python:score.py:bad", "answer", str(tmp_path))
    with pytest.raises(RunError, match="'k1'"):
        score("41", ITEM)


def test_python_scorer_non_number_rejected(tmp_path: Path) -> None:
    (tmp_path / "score.py").write_text("def bad(output, item):\n    return 'yes'\n")
    score = scoring.build("python:score.py:bad", "answer", str(tmp_path))
    with pytest.raises(RunError, match="finite number"):
        score("41", ITEM)


def test_python_scorer_outside_project_rejected(tmp_path: Path) -> None:
    (tmp_path / "outside.py").write_text("def f(o, i):\n    return 1\n")
    inner = tmp_path / "project"
    inner.mkdir()
    with pytest.raises(InputError, match="outside the project"):
        scoring.build("python:../outside.py:f", "answer", str(inner))
