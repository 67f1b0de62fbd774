"""Run one cold vLLM generation job in the current process.

The launcher starts this module in a fresh process::

    python -m evallock.runner.worker JOB.json RESULT.json

JOB.json names the model folder, the ``vllm.LLM`` engine arguments, the
sampling parameters and the requests. The worker loads the model, generates
every request with its own sampling seed, reads vLLM's prefix cache counters
and writes RESULT.json atomically. The result records the outputs in request
order, the engine arguments vLLM resolved, the versions, the topology and the
timings.

Progress events go to stdout as one JSON object per line (``loading``,
``loaded``, ``generating``, ``generated``, ``written``). The worker points file
descriptor 1 at stderr before vLLM is imported, so vLLM's logging and anything
else that prints lands on stderr and stdout carries only events.

Exit codes: 0 when RESULT.json is written, 2 for a command-line usage error,
3 for an invalid job (one line on stderr), and 1 with a traceback on stderr
when vLLM or the worker fails.

Only the standard library and evallock's table of engine setting names are
imported at module level, so importing this module is cheap. vLLM, torch and
transformers are imported when a job runs.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import IO, Any

from evallock.runner.resolved import RESOLVED_ENGINE_FIELDS

EXIT_INVALID_JOB = 3

# Sampling keys vLLM 0.32 takes from a checkpoint's generation_config.json
# (vllm.config.ModelConfig.get_diff_sampling_param), with the Hugging Face name
# max_new_tokens already renamed to vLLM's max_tokens.
MODEL_SAMPLING_KEYS = (
    "repetition_penalty",
    "presence_penalty",
    "frequency_penalty",
    "temperature",
    "top_k",
    "top_p",
    "min_p",
    "max_tokens",
)


class InvalidJobError(ValueError):
    """A job file that cannot be run as written."""


@dataclass(frozen=True)
class Request:
    """One prompt to generate, with the sampling seed that makes it reproducible.

    `prompt` is text, or a list of chat messages when the job is a chat job.
    A `seed` of None leaves sampling to the engine's shared random state, so
    the output then depends on batch composition.
    """

    key: str
    prompt: str | list[dict[str, Any]]
    seed: int | None


@dataclass(frozen=True)
class Job:
    """The contents of JOB.json after validation."""

    model: str
    engine: dict[str, Any]
    sampling: dict[str, Any]
    use_generation_config: bool
    chat: bool
    requests: list[Request]


class EventStream:
    """Progress events written as JSON lines to a stream that is flushed each time."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def emit(self, event: str, **fields: Any) -> None:
        self._stream.write(json.dumps({"event": event, **fields}) + "\n")
        self._stream.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m evallock.runner.worker",
        description="Run one cold vLLM generation job and write its result.",
    )
    parser.add_argument("job", type=Path, help="JOB.json to read")
    parser.add_argument("result", type=Path, help="RESULT.json to write")
    args = parser.parse_args(argv)

    try:
        job = load_job(args.job)
    except InvalidJobError as error:
        print(f"invalid job {args.job}: {error}", file=sys.stderr)
        return EXIT_INVALID_JOB

    events = EventStream(separate_stdout())
    try:
        result = run_job(job, events)
    except InvalidJobError as error:
        print(f"invalid job {args.job}: {error}", file=sys.stderr)
        return EXIT_INVALID_JOB

    write_json_atomically(args.result, result)
    events.emit("written", path=str(args.result))
    return 0


def separate_stdout() -> IO[str]:
    """Return a stream on the original stdout and point descriptor 1 at stderr.

    vLLM 0.32 logs to stdout unless VLLM_LOGGING_STREAM names another stream,
    and native libraries print to descriptor 1 directly. Moving descriptor 1 keeps
    all of that out of the event stream.
    """
    sys.stdout.flush()
    events_fd = os.dup(1)
    os.dup2(2, 1)
    return os.fdopen(events_fd, "w", encoding="utf-8")


def load_job(path: Path) -> Job:
    """Read and validate JOB.json, raising InvalidJobError with the reason."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InvalidJobError(f"failed to read the file: {error.strerror}") from error
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidJobError(f"not valid JSON: {error}") from error
    return parse_job(data)


def parse_job(data: object) -> Job:
    """Validate a decoded job and return it, raising InvalidJobError otherwise."""
    if not isinstance(data, dict):
        raise InvalidJobError("the top level must be a JSON object")
    model = data.get("model")
    if not isinstance(model, str) or not model:
        raise InvalidJobError("'model' must be a non-empty string")
    engine = expect_object(data, "engine")
    sampling = expect_object(data, "sampling")
    use_generation_config = expect_bool(data, "use_generation_config")
    chat = expect_bool(data, "chat")

    check_engine(engine)
    check_sampling(sampling)
    requests = parse_requests(data.get("requests"), chat)
    return Job(model, engine, sampling, use_generation_config, chat, requests)


def expect_object(data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise InvalidJobError(f"{name!r} must be a JSON object")
    return value


def expect_bool(data: dict[str, Any], name: str) -> bool:
    value = data.get(name, False)
    if not isinstance(value, bool):
        raise InvalidJobError(f"{name!r} must be true or false, not {value!r}")
    return value


def check_engine(engine: dict[str, Any]) -> None:
    if engine.get("enable_prefix_caching", False) is not False:
        raise InvalidJobError(
            "engine.enable_prefix_caching must be false or absent, because a"
            " cached prefix lets one request reuse another's KV states"
        )
    if "model" in engine:
        raise InvalidJobError("set the model with the top-level 'model' key")
    if "generation_config" in engine:
        raise InvalidJobError(
            "set the top-level 'use_generation_config' flag instead of"
            " engine.generation_config"
        )
    if engine.get("disable_log_stats", False) is not False:
        raise InvalidJobError(
            "engine.disable_log_stats must be false or absent, because vLLM"
            " keeps the prefix cache counters only while stat logging is on"
        )


def check_sampling(sampling: dict[str, Any]) -> None:
    if "seed" in sampling:
        raise InvalidJobError(
            "sampling.seed is not accepted: give each request its own 'seed'"
        )
    if sampling.get("n", 1) != 1:
        raise InvalidJobError(f"sampling.n must be 1, not {sampling['n']!r}")


def parse_requests(value: object, chat: bool) -> list[Request]:
    if not isinstance(value, list) or not value:
        raise InvalidJobError("'requests' must be a non-empty list")
    requests = []
    keys: set[str] = set()
    for index, item in enumerate(value):
        request = parse_request(item, chat, index)
        if request.key in keys:
            raise InvalidJobError(f"requests[{index}]: duplicate key {request.key!r}")
        keys.add(request.key)
        requests.append(request)
    return requests


def parse_request(item: object, chat: bool, index: int) -> Request:
    where = f"requests[{index}]"
    if not isinstance(item, dict):
        raise InvalidJobError(f"{where} must be a JSON object")
    key = item.get("key")
    if not isinstance(key, str) or not key:
        raise InvalidJobError(f"{where}.key must be a non-empty string")

    prompt = parse_prompt(item.get("prompt"), chat, where)
    seed = item.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise InvalidJobError(f"{where}.seed must be an integer or null")
    return Request(key, prompt, seed)


def parse_prompt(value: object, chat: bool, where: str) -> str | list[dict[str, Any]]:
    if isinstance(value, str):
        return value
    if chat and isinstance(value, list):
        messages = [message for message in value if isinstance(message, dict)]
        if len(messages) == len(value):
            return messages
    expected = "a string or a list of message objects" if chat else "a string"
    raise InvalidJobError(f"{where}.prompt must be {expected}")


def run_job(job: Job, events: EventStream) -> dict[str, Any]:
    """Load the model, generate every request and return the result record."""
    import vllm

    check_engine_names(job.engine, vllm.EngineArgs)
    build_sampling_params(vllm.SamplingParams, job.sampling, seed=None)

    events.emit("loading", model=job.model)
    started = time.perf_counter()
    llm = vllm.LLM(model=job.model, **engine_kwargs(job))
    load_seconds = time.perf_counter() - started
    events.emit("loaded", seconds=round(load_seconds, 3))

    model_config = llm.llm_engine.model_config
    model_defaults = read_model_sampling_defaults(model_config)
    sampling = dict(job.sampling)
    if job.use_generation_config:
        sampling.update(model_config.get_diff_sampling_param())

    prompts = [render_prompt(llm, job.chat, request) for request in job.requests]
    params = [
        build_sampling_params(vllm.SamplingParams, sampling, request.seed)
        for request in job.requests
    ]
    events.emit("generating", count=len(prompts))
    started = time.perf_counter()
    outputs = llm.generate(prompts, params, use_tqdm=False)
    generate_seconds = time.perf_counter() - started
    events.emit("generated", count=len(outputs), seconds=round(generate_seconds, 3))

    return {
        "outputs": collect_outputs(job.requests, outputs),
        "prefix_cache": read_prefix_cache_counters(llm),
        "engine_args": read_resolved_engine_args(llm.llm_engine.vllm_config),
        "sampling": sampling,
        "generation_config_applied": job.use_generation_config,
        "sampling_defaults_from_model": model_defaults,
        "versions": read_versions(vllm),
        "topology": read_topology(llm.llm_engine.vllm_config),
        "timings": {
            "load_s": round(load_seconds, 3),
            "generate_s": round(generate_seconds, 3),
        },
    }


def check_engine_names(engine: dict[str, Any], engine_args_class: type) -> None:
    known = {field.name for field in dataclasses.fields(engine_args_class)}
    unknown = sorted(set(engine) - known)
    if unknown:
        raise InvalidJobError(
            f"unknown vLLM engine arguments {unknown}: check their spelling"
            " against vllm.EngineArgs"
        )


def engine_kwargs(job: Job) -> dict[str, Any]:
    """Return the vllm.LLM arguments: the job's, plus three the worker owns.

    Prefix caching stays off so no request reuses another's KV states, the
    job's `use_generation_config` flag picks `generation_config`, and stat
    logging stays on because vLLM keeps the prefix cache counters only then.
    """
    return {
        **job.engine,
        "enable_prefix_caching": False,
        "generation_config": "auto" if job.use_generation_config else "vllm",
        "disable_log_stats": False,
    }


def build_sampling_params(
    sampling_params_class: Callable[..., Any],
    sampling: dict[str, Any],
    seed: int | None,
) -> Any:
    """Build vllm.SamplingParams, raising InvalidJobError for values vLLM rejects."""
    try:
        return sampling_params_class(**sampling, seed=seed)
    except (TypeError, ValueError) as error:
        raise InvalidJobError(f"invalid sampling parameters: {error}") from error


def read_model_sampling_defaults(model_config: Any) -> dict[str, Any]:
    """Return the sampling values the checkpoint's generation_config.json sets.

    They are read whether or not the job applies them, so the result shows
    what the checkpoint would have changed.
    """
    config = dict(model_config.try_get_generation_config())
    if "max_new_tokens" in config:
        config["max_tokens"] = config.pop("max_new_tokens")
    return {
        key: config[key] for key in MODEL_SAMPLING_KEYS if config.get(key) is not None
    }


def render_prompt(llm: Any, chat: bool, request: Request) -> Any:
    """Return the prompt for llm.generate: text, or token ids for a chat request.

    A chat request is rendered with the tokenizer's chat template and encoded
    without adding special tokens, because the template already contains the
    ones the model expects.
    """
    if not chat:
        assert isinstance(request.prompt, str)
        return request.prompt
    if isinstance(request.prompt, str):
        messages = [{"role": "user", "content": request.prompt}]
    else:
        messages = request.prompt
    tokenizer = llm.get_tokenizer()
    text = tokenizer.apply_chat_template(
        messages, tokenize=False, add_generation_prompt=True
    )
    return {"prompt_token_ids": tokenizer.encode(text, add_special_tokens=False)}


def collect_outputs(
    requests: list[Request], outputs: list[Any]
) -> list[dict[str, Any]]:
    if len(outputs) != len(requests):
        raise RuntimeError(
            f"vLLM returned {len(outputs)} outputs for {len(requests)} requests"
        )
    collected = []
    for request, output in zip(requests, outputs, strict=True):
        completion = output.outputs[0]
        collected.append(
            {
                "key": request.key,
                "text": completion.text,
                "token_ids": list(completion.token_ids),
                "finish_reason": completion.finish_reason,
                "num_prompt_tokens": len(output.prompt_token_ids or []),
            }
        )
    return collected


def read_prefix_cache_counters(llm: Any) -> dict[str, Any]:
    """Read vLLM's prefix cache query and hit counters, in tokens.

    vLLM 0.32 exposes them through LLM.get_metrics() as the Prometheus
    counters vllm:prefix_cache_queries and vllm:prefix_cache_hits, one sample
    per engine, which are summed here. With prefix caching off, vLLM makes no
    cache lookups, so both stay 0. When the counters cannot be read, both
    values are None and `unavailable_reason` gives the cause, so a missing
    counter is never reported as zero.
    """
    try:
        metrics = llm.get_metrics()
    except (AssertionError, AttributeError, NotImplementedError) as error:
        failure = f"LLM.get_metrics() failed: {error!r}"
        print(f"prefix cache counters unavailable: {failure}", file=sys.stderr)
        return {"queries": None, "hits": None, "unavailable_reason": failure}

    totals: dict[str, int | None] = {}
    for name in ("queries", "hits"):
        values = [
            metric.value
            for metric in metrics
            if metric.name == f"vllm:prefix_cache_{name}"
        ]
        totals[name] = int(sum(values)) if values else None

    reason: str | None = None
    if None in totals.values():
        reason = (
            "vLLM reported no vllm:prefix_cache_queries or"
            " vllm:prefix_cache_hits counter"
        )
        print(f"prefix cache counters unavailable: {reason}", file=sys.stderr)
    return {**totals, "unavailable_reason": reason}


def read_resolved_engine_args(vllm_config: Any) -> dict[str, Any]:
    """Read back the engine settings vLLM resolved, defaults included.

    Settings this vLLM version does not have are left out rather than
    reported as null.
    """
    resolved = {}
    for key, section_name, attribute in RESOLVED_ENGINE_FIELDS:
        section = getattr(vllm_config, section_name) if section_name else vllm_config
        if section is None or not hasattr(section, attribute):
            continue
        resolved[key] = to_json_value(getattr(section, attribute))
    return resolved


def read_topology(vllm_config: Any) -> dict[str, Any]:
    import torch

    parallel = vllm_config.parallel_config
    device = str(vllm_config.device_config.device_type)
    # NOTE: device_count is the number of visible CUDA devices, or 1 for a CPU
    # run. It is not the number of devices vLLM used.
    device_count = torch.cuda.device_count() if device == "cuda" else 1
    return {
        "tensor_parallel_size": parallel.tensor_parallel_size,
        "pipeline_parallel_size": parallel.pipeline_parallel_size,
        "distributed_executor_backend": to_json_value(
            parallel.distributed_executor_backend
        ),
        "device": device,
        "device_count": device_count,
    }


def read_versions(vllm: Any) -> dict[str, str]:
    import torch
    import transformers

    return {
        "vllm": vllm.__version__,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
    }


def to_json_value(value: Any) -> Any:
    """Convert a vLLM config value to JSON: enums by name, dtypes as text."""
    if isinstance(value, Enum):
        return value.name
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict):
        return {str(key): to_json_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_json_value(item) for item in value]
    if isinstance(value, type):
        return f"{value.__module__}.{value.__qualname__}"
    return str(value).removeprefix("torch.")


def write_json_atomically(path: Path, data: dict[str, Any]) -> None:
    """Write JSON through a temporary file in the same folder and os.replace."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w",
        encoding="utf-8",
        dir=path.parent,
        prefix=f".{path.name}.",
        suffix=".tmp",
        delete=False,
    ) as temporary:
        try:
            json.dump(data, temporary, indent=1)
            temporary.write("\n")
            temporary.flush()
            os.fsync(temporary.fileno())
        except BaseException:
            os.unlink(temporary.name)
            raise
    os.replace(temporary.name, path)


if __name__ == "__main__":
    sys.exit(main())
