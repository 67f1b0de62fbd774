"""Loading and validating ``.evallock.toml``, the person-written project file.

Everything is checked up front, so that a typo fails in a second with a
sentence naming the key, and never after a ten-minute run.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import tomllib
from dataclasses import dataclass
from typing import Any

from evallock.errors import ConfigError
from evallock.fsutil import read_regular_file
from evallock.runner.resolved import RESOLVED_ENGINE_FIELDS

NAME = ".evallock.toml"

# Engine settings that decide outputs, with the default that evallock passes to
# vLLM explicitly. Passing every value, instead of leaving vLLM to choose,
# keeps a lock truthful when vLLM's own defaults change between releases or
# between GPU and CPU builds. ``max_model_len`` = 0 means "the checkpoint's
# max_position_embeddings", resolved when locking.
ENGINE_DEFAULTS: dict[str, Any] = {
    "dtype": "auto",
    "seed": 0,
    "max_model_len": 0,
    "max_num_seqs": 256,
    "max_num_batched_tokens": 8192,
    "tensor_parallel_size": 1,
    "pipeline_parallel_size": 1,
    "distributed_executor_backend": "auto",
    "quantization": "none",
    "kv_cache_dtype": "auto",
    "enforce_eager": False,
    "enable_prefix_caching": False,
}

# Sampling parameters, with vLLM's own defaults written out.
SAMPLING_DEFAULTS: dict[str, Any] = {
    "temperature": 1.0,
    "top_p": 1.0,
    "top_k": 0,
    "min_p": 0.0,
    "max_tokens": 16,
    "repetition_penalty": 1.0,
    "presence_penalty": 0.0,
    "frequency_penalty": 0.0,
    "stop": [],
}

MODEL_DEFAULTS: dict[str, Any] = {
    "checkpoint": None,
    "chat": False,
    "use_generation_config": False,
}

EVAL_DEFAULTS: dict[str, Any] = {
    "name": None,
    "dataset": None,
    "template": None,
    "prompts": [],
    "scorer": "exact_match",
    "id_field": "",
    "answer_field": "answer",
    "format": "",
}

COMPARE_DEFAULTS: dict[str, Any] = {"under_test": ["checkpoint"], "ignore": []}

# Floats, so that both `timeout = 600` and `timeout = 90.5` are accepted.
RUN_DEFAULTS: dict[str, Any] = {"timeout": 1800.0, "cpu_kv_cache_gib": 1.0}

TABLES: dict[str, dict[str, Any]] = {
    "model": MODEL_DEFAULTS,
    "engine": ENGINE_DEFAULTS,
    "sampling": SAMPLING_DEFAULTS,
    "compare": COMPARE_DEFAULTS,
    "run": RUN_DEFAULTS,
}

DATASET_FORMATS = ("jsonl", "json", "csv")
COMPONENTS = (
    "prompts",
    "datasets",
    "checkpoint",
    "engine",
    "sampling",
    "evals",
    "scorer",
    "software",
    "hardware",
)
EVAL_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
SCORER = re.compile(r"^(exact_match|includes|regex:.+|python:[^:]+:[A-Za-z_]\w*)$")


@dataclass(frozen=True)
class EvalSpec:
    """One evaluation: a dataset rendered through a template and scored."""

    name: str
    dataset: str
    template: str
    prompts: tuple[str, ...]
    scorer: str
    id_field: str
    answer_field: str
    format: str


@dataclass(frozen=True)
class Config:
    """The validated content of ``.evallock.toml``, with defaults filled in."""

    checkpoint: str
    chat: bool
    use_generation_config: bool
    engine: dict[str, Any]
    engine_extra: dict[str, Any]
    sampling: dict[str, Any]
    evals: tuple[EvalSpec, ...]
    under_test: tuple[str, ...]
    ignore: tuple[str, ...]
    timeout: float
    cpu_kv_cache_gib: float


CONFLICT_MARKER = re.compile(r"^(<<<<<<<|>>>>>>>)( |$)", re.MULTILINE)


def parse_toml(text: str, shown: str) -> dict[str, Any]:
    marker = CONFLICT_MARKER.search(text)
    if marker is not None:
        line = text.count("\n", 0, marker.start()) + 1
        raise ConfigError(
            f"{shown} contains a git merge-conflict marker at line {line}; resolve "
            "the conflict and remove the markers"
        )
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(
            f"{shown} is not valid TOML: {toml_error_text(error, text)}; fix the "
            "syntax there"
        ) from None
    except RecursionError:
        # tomllib recurses once per nesting level and fails near 500 levels.
        raise ConfigError(
            f"{shown} nests arrays or inline tables too deeply to parse; flatten them"
        ) from None


def toml_error_text(error: tomllib.TOMLDecodeError, text: str) -> str:
    """Return tomllib's message with a line number even for a truncated file.

    tomllib ends its message with "(at line L, column C)", or with "(at end
    of document)" when the text stops early.
    """
    where = f"(at the end of the file, line {text.count(chr(10)) + 1})"
    return str(error).replace("(at end of document)", where)


def load_text(text: str, shown: str = NAME) -> Config:
    """Parse and validate the text of ``.evallock.toml``."""
    data = parse_toml(text, shown)
    if not data:
        raise ConfigError(
            f"{shown} is empty; run `evallock init` to scaffold it, or add [model] "
            "and [[evals]] tables"
        )
    _check_finite(data, shown, "")
    _check_keys(data, set(TABLES) | {"evals"}, "the top level", shown)
    tables = {name: _table(data, name, shown) for name in TABLES}
    model = _fill(tables["model"], MODEL_DEFAULTS, "[model]", shown, {"checkpoint"})
    engine_extra = tables["engine"].pop("vllm", {})
    if not isinstance(engine_extra, dict):
        raise ConfigError(f"{shown}: [engine.vllm] must be a table of vLLM arguments")
    engine = _fill(tables["engine"], ENGINE_DEFAULTS, "[engine]", shown)
    if engine["enable_prefix_caching"]:
        raise ConfigError(
            f"{shown}: [engine] enable_prefix_caching = true is not allowed, because "
            "a warm prefix cache lets earlier runs leak into scores; remove the key"
        )
    _check_engine_extra(engine_extra, shown)
    sampling = _fill(tables["sampling"], SAMPLING_DEFAULTS, "[sampling]", shown)
    compare = _fill(tables["compare"], COMPARE_DEFAULTS, "[compare]", shown)
    run = _fill(tables["run"], RUN_DEFAULTS, "[run]", shown)
    _check_values(engine, sampling, compare, run, shown)
    return Config(
        checkpoint=model["checkpoint"],
        chat=model["chat"],
        use_generation_config=model["use_generation_config"],
        engine=engine,
        engine_extra=engine_extra,
        sampling=sampling,
        evals=_evals(data.get("evals"), shown),
        under_test=tuple(compare["under_test"]),
        ignore=tuple(compare["ignore"]),
        timeout=float(run["timeout"]),
        cpu_kv_cache_gib=float(run["cpu_kv_cache_gib"]),
    )


def load(root: str) -> Config:
    path = os.path.join(root, NAME)
    try:
        raw = read_regular_file(path)
    except FileNotFoundError:
        raise ConfigError(
            f"{path} does not exist; run `evallock init` to create it"
        ) from None
    except OSError as error:
        raise ConfigError(
            f"{path} cannot be read ({error.strerror}); make it a readable file"
        ) from None
    return load_text(decode_text(raw, NAME), NAME)


def decode_text(raw: bytes, shown: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"{shown} is not valid UTF-8 (byte {error.start}); save it as UTF-8"
        ) from None


def _check_finite(value: Any, shown: str, where: str) -> None:
    """Reject nan and inf, which never compare equal to themselves in a lock."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(
            f"{shown}: {where} = {value!r} is not a finite number; write a number"
        )
    if isinstance(value, dict):
        for key, inner in value.items():
            _check_finite(inner, shown, f"{where}.{key}" if where else key)
    elif isinstance(value, list):
        for inner in value:
            _check_finite(inner, shown, where)


def _table(data: dict[str, Any], name: str, shown: str) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{shown}: {name} must be a table, written [{name}]")
    return dict(value)


def _check_keys(table: dict[str, Any], known: set[str], where: str, shown: str) -> None:
    for key in table:
        if key in known:
            continue
        close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        valid = ", ".join(sorted(known))
        raise ConfigError(
            f"{shown}: unknown key {key!r} in {where}{hint} (valid keys: {valid})"
        )


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean (true or false)"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "a table"


def _fill(
    table: dict[str, Any],
    defaults: dict[str, Any],
    where: str,
    shown: str,
    required: frozenset[str] | set[str] = frozenset(),
) -> dict[str, Any]:
    _check_keys(table, set(defaults), where, shown)
    for key in sorted(required):
        if key not in table:
            raise ConfigError(f"{shown}: {where} is missing the required key {key!r}")
    result = dict(defaults)
    for key, value in table.items():
        default = defaults[key]
        if default is None:
            expected: Any = str
        elif isinstance(default, float):
            expected = (int, float)
        else:
            expected = type(default)
        ok = isinstance(value, expected) and not (
            isinstance(value, bool) and not isinstance(default, bool)
        )
        if not ok:
            wanted = _type_name(default if default is not None else "")
            raise ConfigError(
                f"{shown}: {where} {key} = {value!r} is {_type_name(value)} but must "
                f"be {wanted}"
            )
        if isinstance(value, list) and not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{shown}: {where} {key} must be a list of strings")
        result[key] = float(value) if isinstance(default, float) else value
    return result


def _check_engine_extra(extra: dict[str, Any], shown: str) -> None:
    for key in extra:
        if key == "enable_prefix_caching":
            raise ConfigError(
                f"{shown}: [engine.vllm] may not set 'enable_prefix_caching', "
                "because evallock always turns prefix caching off; remove the key"
            )
        if key in ENGINE_DEFAULTS:
            raise ConfigError(
                f"{shown}: {key!r} belongs in [engine], not [engine.vllm]; move it"
            )


def _check_values(
    engine: dict[str, Any],
    sampling: dict[str, Any],
    compare: dict[str, Any],
    run: dict[str, Any],
    shown: str,
) -> None:
    positive = [
        ("engine", "max_num_seqs", engine),
        ("engine", "max_num_batched_tokens", engine),
        ("engine", "tensor_parallel_size", engine),
        ("engine", "pipeline_parallel_size", engine),
        ("sampling", "max_tokens", sampling),
        ("run", "timeout", run),
        ("run", "cpu_kv_cache_gib", run),
    ]
    for table, key, values in positive:
        if values[key] <= 0:
            raise ConfigError(
                f"{shown}: [{table}] {key} = {values[key]!r} must be greater than 0"
            )
    if engine["max_model_len"] < 0:
        raise ConfigError(
            f"{shown}: [engine] max_model_len must be 0 (the checkpoint's maximum) "
            "or a positive number of tokens"
        )
    if not 0 <= engine["seed"] < 2**32:
        # vLLM seeds NumPy with it, which accepts only 0 .. 2**32 - 1.
        raise ConfigError(
            f"{shown}: [engine] seed = {engine['seed']} must be between 0 and "
            f"{2**32 - 1}"
        )
    if sampling["temperature"] < 0:
        raise ConfigError(f"{shown}: [sampling] temperature must not be negative")
    if not 0 < sampling["top_p"] <= 1:
        raise ConfigError(f"{shown}: [sampling] top_p must be in (0, 1]")
    if sampling["top_k"] < -1:
        raise ConfigError(
            f"{shown}: [sampling] top_k = {sampling['top_k']} must be a positive "
            "number of tokens, or 0 or -1 to turn it off"
        )
    backends = ("auto", "mp", "ray", "uni", "external_launcher")
    if engine["distributed_executor_backend"] not in backends:
        raise ConfigError(
            f"{shown}: [engine] distributed_executor_backend must be one of "
            f"{', '.join(backends)}"
        )
    for key in ("under_test", "ignore"):
        for entry in compare[key]:
            _check_policy_entry(key, entry, shown)


# Settings that a dotted [compare] entry may name, per component whose
# setting names are fixed; other components name files or probed values.
POLICY_SETTINGS: dict[str, set[str]] = {
    # Runs also record the arguments vLLM resolved and the topology.
    "engine": set(ENGINE_DEFAULTS)
    | {name for name, _, _ in RESOLVED_ENGINE_FIELDS}
    | {"topology"},
    "sampling": set(SAMPLING_DEFAULTS) | {"use_generation_config", "seed_policy"},
    "checkpoint": {
        "weights",
        "tokenizer",
        "generation_config",
        "config",
        "other",
        "hf_repo",
        "hf_revision",
    },
}


def _check_policy_entry(key: str, entry: str, shown: str) -> None:
    component, _, setting = entry.partition(".")
    if component not in COMPONENTS:
        close = difflib.get_close_matches(component, COMPONENTS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(
            f"{shown}: [compare] {key} names unknown component {entry!r}"
            f"{hint} (components: {', '.join(COMPONENTS)})"
        )
    known = POLICY_SETTINGS.get(component)
    if not setting or known is None or setting.startswith("vllm."):
        return
    if setting.split(".")[0] not in known:
        close = difflib.get_close_matches(setting, sorted(known), n=1)
        hint = f"; did you mean '{component}.{close[0]}'?" if close else ""
        raise ConfigError(
            f"{shown}: [compare] {key} names unknown setting {entry!r}{hint}"
        )


def _evals(raw: Any, shown: str) -> tuple[EvalSpec, ...]:
    if raw is None:
        raise ConfigError(
            f"{shown} defines no evaluation; add an [[evals]] table with name, "
            "dataset and template"
        )
    if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
        raise ConfigError(f"{shown}: evals must be written as [[evals]] tables")
    specs = [_eval_spec(table, index, shown) for index, table in enumerate(raw, 1)]
    names = [spec.name for spec in specs]
    for name in names:
        if names.count(name) > 1:
            raise ConfigError(f"{shown}: two [[evals]] tables are named {name!r}")
    return tuple(specs)


def _eval_spec(table: dict[str, Any], index: int, shown: str) -> EvalSpec:
    where = f"[[evals]] number {index}"
    values = _fill(dict(table), EVAL_DEFAULTS, where, shown)
    for key in ("name", "dataset", "template"):
        if not values[key]:
            raise ConfigError(f"{shown}: {where} is missing the key {key!r}")
    if not EVAL_NAME.match(values["name"]):
        raise ConfigError(
            f"{shown}: {where} name {values['name']!r} may contain only letters, "
            "digits, '.', '_' and '-'"
        )
    _check_scorer(values["scorer"], where, shown)
    if values["format"] and values["format"] not in DATASET_FORMATS:
        raise ConfigError(
            f"{shown}: {where} format {values['format']!r} must be one of "
            f"{', '.join(DATASET_FORMATS)}"
        )
    return EvalSpec(
        name=values["name"],
        dataset=values["dataset"],
        template=values["template"],
        prompts=tuple(values["prompts"]),
        scorer=values["scorer"],
        id_field=values["id_field"],
        answer_field=values["answer_field"],
        format=values["format"],
    )


def _check_scorer(scorer: str, where: str, shown: str) -> None:
    if not SCORER.match(scorer):
        raise ConfigError(
            f"{shown}: {where} scorer {scorer!r} is not valid; use exact_match, "
            "includes, regex:<pattern> or python:<file.py>:<function>"
        )
    if not scorer.startswith("regex:"):
        return
    try:
        re.compile(scorer.removeprefix("regex:"))
    except re.error as error:
        raise ConfigError(
            f"{shown}: {where} scorer has an invalid regular expression ({error}); "
            "fix the pattern after 'regex:'"
        ) from None
