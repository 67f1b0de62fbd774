"""Validation of ``.evallock.toml``."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.cli import run_cli
from helpers.project import CONFIG, make_project, set_config

from evallock import config
from evallock.errors import ConfigError


def load_error(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        config.load_text(text)
    return str(caught.value)


def test_config_example_loads_with_defaults() -> None:
    loaded = config.load_text(CONFIG)
    assert loaded.checkpoint == "model"
    assert loaded.engine["max_num_seqs"] == 64
    assert loaded.engine["enable_prefix_caching"] is False
    assert loaded.sampling["top_p"] == 1.0
    assert loaded.evals[0].prompts == ("prompts/system.txt", "prompts/fewshot/*.txt")
    assert loaded.under_test == ("checkpoint",)


def test_config_syntax_error_names_line_column() -> None:
    message = load_error(CONFIG.replace('dtype = "float32"', "dtype = float32"))
    assert ".evallock.toml" in message
    assert "line 5" in message
    assert "column 9" in message


def test_config_truncated_file_is_syntax_error() -> None:
    message = load_error(CONFIG[: CONFIG.index("model") + 3])
    assert "not valid TOML" in message
    assert "at the end of the file, line 1" in message


def test_config_truncated_string_names_line() -> None:
    message = load_error(CONFIG[: CONFIG.index('"model"') + 4])
    assert "line 2" in message


def test_config_unknown_key_hint() -> None:
    message = load_error(CONFIG.replace("max_num_seqs", "max_num_seq"))
    assert "'max_num_seq'" in message
    assert "[engine]" in message
    assert "did you mean 'max_num_seqs'?" in message


def test_config_unknown_table_suggests_closest() -> None:
    message = load_error(CONFIG.replace("[sampling]", "[sampler]"))
    assert "'sampler'" in message
    assert "the top level" in message
    assert "did you mean 'sampling'?" in message


def test_config_unknown_eval_key_suggests_closest() -> None:
    message = load_error(CONFIG.replace("template =", "templat ="))
    assert "'templat'" in message
    assert "[[evals]] number 1" in message
    assert "did you mean 'template'?" in message


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("max_num_seqs = 64", 'max_num_seqs = "64"', "must be an integer"),
        ("max_tokens = 8", "max_tokens = 8.5", "must be an integer"),
        ("temperature = 0.0", 'temperature = "0"', "must be a number"),
        ('checkpoint = "model"', "checkpoint = 3", "must be a string"),
        ('dtype = "float32"', "dtype = true", "must be a string"),
        ("seed = 0", "seed = false", "must be an integer"),
        ('scorer = "exact_match"', 'scorer = ["exact_match"]', "must be a string"),
        (
            'prompts = ["prompts/system.txt", "prompts/fewshot/*.txt"]',
            'prompts = "prompts/system.txt"',
            "must be a list",
        ),
    ],
)
def test_config_wrong_type_names_key(old: str, new: str, expected: str) -> None:
    message = load_error(CONFIG.replace(old, new))
    key = new.split(" =")[0]
    assert f"{key} = " in message
    assert expected in message


def test_config_integer_accepted_for_float() -> None:
    loaded = config.load_text(CONFIG.replace("temperature = 0.0", "temperature = 0"))
    assert loaded.sampling["temperature"] == 0.0
    assert isinstance(loaded.sampling["temperature"], float)


def test_config_run_timeout_accepts_fraction() -> None:
    loaded = config.load_text(CONFIG + "\n[run]\ntimeout = 90.5\n")
    assert loaded.timeout == 90.5


def test_config_nan_rejected() -> None:
    message = load_error(CONFIG.replace("temperature = 0.0", "temperature = nan"))
    assert "sampling.temperature" in message
    assert "not a finite number" in message


def test_config_list_of_non_strings_rejected() -> None:
    message = load_error(CONFIG.replace('"prompts/system.txt", ', "1, "))
    assert "prompts must be a list of strings" in message


def test_config_prefix_caching_rejected() -> None:
    message = load_error(CONFIG.replace("seed = 0", "enable_prefix_caching = true"))
    assert "enable_prefix_caching" in message
    assert "remove the key" in message


def test_config_vllm_prefix_caching_rejected() -> None:
    message = load_error(CONFIG + "\n[engine.vllm]\nenable_prefix_caching = true\n")
    assert "enable_prefix_caching" in message


def test_config_vllm_extra_arguments_kept() -> None:
    loaded = config.load_text(CONFIG + "\n[engine.vllm]\nblock_size = 16\n")
    assert loaded.engine_extra == {"block_size": 16}


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("max_tokens = 8", "max_tokens = -1", "max_tokens = -1 must be greater than 0"),
        ("max_num_seqs = 64", "max_num_seqs = 0", "max_num_seqs = 0 must be greater"),
        ("temperature = 0.0", "temperature = -0.5", "temperature must not be"),
        ("temperature = 0.0", "top_p = 1.5", "top_p must be in (0, 1]"),
        ("temperature = 0.0", "top_k = -2", "top_k = -2 must be"),
        ("max_model_len = 64", "max_model_len = -1", "max_model_len must be 0"),
    ],
)
def test_config_out_of_range_value(old: str, new: str, expected: str) -> None:
    assert expected in load_error(CONFIG.replace(old, new))


def test_config_missing_checkpoint_named() -> None:
    message = load_error(CONFIG.replace('checkpoint = "model"', ""))
    assert "[model] is missing the required key 'checkpoint'" in message


def test_config_without_evals_says_add() -> None:
    message = load_error(CONFIG[: CONFIG.index("[[evals]]")])
    assert "add an [[evals]] table" in message


def test_config_empty_file_suggests_init() -> None:
    message = load_error("# nothing yet\n")
    assert "is empty" in message
    assert "evallock init" in message


def test_config_conflict_markers_named() -> None:
    text = CONFIG.replace(
        "seed = 0", "<<<<<<< HEAD\nseed = 0\n=======\nseed = 1\n>>>>>>> b"
    )
    message = load_error(text)
    assert "merge-conflict marker at line 7" in message


def test_config_invalid_regex_scorer() -> None:
    message = load_error(CONFIG.replace('"exact_match"', '"regex:([0-9"'))
    assert "invalid regular expression" in message
    assert "[[evals]] number 1" in message


def test_config_unknown_scorer_lists_choices() -> None:
    message = load_error(CONFIG.replace('"exact_match"', '"fuzzy"'))
    assert "'fuzzy' is not valid" in message
    assert "python:<file.py>:<function>" in message


def test_config_duplicate_eval_names() -> None:
    second = CONFIG[CONFIG.index("[[evals]]") :]
    message = load_error(CONFIG + "\n" + second)
    assert "two [[evals]] tables are named 'addition'" in message


def test_config_unknown_compare_component_hint() -> None:
    message = load_error(CONFIG + '\n[compare]\nunder_test = ["checkpint"]\n')
    assert "'checkpint'" in message
    assert "did you mean 'checkpoint'?" in message


def test_config_non_utf8_named() -> None:
    with pytest.raises(ConfigError) as caught:
        config.decode_text(b"[model]\ncheckpoint = '\xff'\n", config.NAME)
    assert "not valid UTF-8 (byte 22)" in str(caught.value)


def test_config_missing_file_says_init(tmp_path: Path) -> None:
    root = make_project(tmp_path / "repo")
    (root / ".evallock.toml").unlink()
    result = run_cli(root, "lock")
    assert result.code == 2
    assert "evallock init" in result.stderr


def test_config_glob_matching_nothing_named(tmp_path: Path) -> None:
    root = make_project(tmp_path / "repo")
    set_config(root, "prompts/fewshot/*.txt", "prompts/fewshot/*.md")
    result = run_cli(root, "lock")
    assert result.code == 2
    assert "'prompts/fewshot/*.md' matches no file" in result.stderr
