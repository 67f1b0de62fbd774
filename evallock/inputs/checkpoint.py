"""Fingerprint of a model checkpoint folder, split into parts.

A checkpoint is reported as five parts so that drift names what changed:
``weights`` (tensors), ``tokenizer`` (vocabulary, merges, special tokens and
the chat template), ``generation_config`` (the sampling defaults a model
ships, which vLLM applies unless told not to), ``config`` (architecture) and
``other``. Files are keyed by their path inside the folder, so a Hugging
Face cache snapshot, whose files are links into ``blobs/``, hashes the same
wherever the cache lives.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
from typing import Any

from evallock.errors import InputError
from evallock.fsutil import check_utf8_name
from evallock.hashing import digest_file, digest_value
from evallock.progress import Progress
from evallock.statcache import StatCache, now_ns

PARTS = ("weights", "tokenizer", "generation_config", "config", "other")
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf", ".npz", ".msgpack")
TOKENIZER_NAMES = {
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "vocab.json",
    "vocab.txt",
    "merges.txt",
    "tokenizer.model",
    "spiece.model",
    "sentencepiece.bpe.model",
    "chat_template.json",
    "chat_template.jinja",
    "preprocessor_config.json",
}
IGNORED_NAMES = {".gitattributes", "README.md", ".DS_Store"}
COMMIT_ID = re.compile(r"^[0-9a-f]{40}$")
HF_SNAPSHOT = re.compile(r"/models--([^/]+)--([^/]+)/snapshots/([0-9a-f]{40})$")


# transformers 4.47+ saves named chat templates (tool use, RAG) as files here.
EXTRA_TEMPLATES_FOLDER = "additional_chat_templates/"


def is_chat_template_file(name: str) -> bool:
    """Tell whether a checkpoint file can hold a chat template."""
    if name.startswith(EXTRA_TEMPLATES_FOLDER):
        return True
    return name in (
        "tokenizer_config.json",
        "chat_template.jinja",
        "chat_template.json",
    )


def classify(name: str) -> str:
    base = name.rsplit("/", 1)[-1]
    if name.startswith(EXTRA_TEMPLATES_FOLDER):
        return "tokenizer"
    if base == "generation_config.json":
        return "generation_config"
    if base == "config.json":
        return "config"
    if base in TOKENIZER_NAMES or base.startswith("tokenizer"):
        return "tokenizer"
    if base.endswith(WEIGHT_SUFFIXES) or base.endswith(".safetensors.index.json"):
        return "weights"
    return "other"


def resolve_checkpoint(spec: str, project_root: str) -> str:
    """Return the folder a ``[model] checkpoint`` value points at.

    ``hf:ORG/NAME`` or ``hf:ORG/NAME@REVISION`` reads the local Hugging Face
    cache (``HF_HUB_CACHE``, else ``HF_HOME/hub``, else ``~/.cache/huggingface/hub``),
    so moving the cache and pointing that variable at it keeps the lock valid.
    """
    if spec.startswith("hf:"):
        return _resolve_hf(spec[3:])
    path = os.path.expanduser(spec)
    if not os.path.isabs(path):
        path = os.path.join(project_root, path)
    if os.path.isfile(path):
        raise InputError(
            f"[model] checkpoint = {spec!r}: {path} is a file, but a checkpoint is "
            "the folder that holds config.json and the weights; fix the path"
        )
    if not os.path.isdir(path):
        raise InputError(
            f"[model] checkpoint = {spec!r}: folder {path} does not exist; fix the "
            "path or download the model"
        )
    return path


def hub_cache() -> str:
    if os.environ.get("HF_HUB_CACHE"):
        return os.environ["HF_HUB_CACHE"]
    home = os.environ.get("HF_HOME") or os.path.expanduser("~/.cache/huggingface")
    return os.path.join(home, "hub")


def _resolve_hf(reference: str) -> str:
    name, _, revision = reference.partition("@")
    if "/" not in name:
        raise InputError(
            f"[model] checkpoint = 'hf:{reference}' must name ORG/NAME, for example "
            "hf:Qwen/Qwen2.5-0.5B-Instruct"
        )
    repo_dir = os.path.join(hub_cache(), "models--" + name.replace("/", "--"))
    named_ref = os.path.join(repo_dir, "refs", revision)
    if revision and not COMMIT_ID.match(revision) and os.path.isfile(named_ref):
        # A branch or tag name, as in hf:ORG/NAME@main, resolves like git does.
        with open(named_ref, encoding="utf-8") as stream:
            revision = stream.read().strip()
    if not revision:
        ref_file = os.path.join(repo_dir, "refs", "main")
        try:
            with open(ref_file, encoding="utf-8") as stream:
                revision = stream.read().strip()
        except OSError:
            raise InputError(
                f"[model] checkpoint = 'hf:{reference}' is not in the Hugging Face "
                f"cache at {hub_cache()}; download it or set HF_HUB_CACHE"
            ) from None
    folder = os.path.join(repo_dir, "snapshots", revision)
    if not os.path.isdir(folder):
        raise InputError(
            f"[model] checkpoint = 'hf:{reference}': snapshot {revision} is not in "
            f"{repo_dir}; download that revision or set HF_HUB_CACHE"
        )
    return folder


def list_files(folder: str, spec: str = "checkpoint") -> list[str]:
    """Return the folder's files as relative paths, following links, sorted.

    A link back to a folder already walked would repeat its files until the
    kernel's link limit, so each real folder is walked once and a second
    path to it is rejected.
    """
    names: list[str] = []
    walked: dict[tuple[int, int], str] = {}
    for current, dirs, files in os.walk(folder, followlinks=True):
        info = os.stat(current)
        identity = (info.st_dev, info.st_ino)
        relative_dir = os.path.relpath(current, folder).replace(os.sep, "/")
        if identity in walked:
            raise InputError(
                f"checkpoint folder {spec}/{relative_dir} is a symbolic link to "
                f"{spec}/{walked[identity]}, which is already part of the checkpoint; "
                "remove the link"
            )
        walked[identity] = relative_dir
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for file in files:
            if file in IGNORED_NAMES or file.startswith("."):
                continue
            relative = os.path.relpath(os.path.join(current, file), folder)
            names.append(check_utf8_name(relative.replace(os.sep, "/")))
    return sorted(names)


def _read_json(path: str, shown: str) -> Any:
    try:
        with open(path, encoding="utf-8") as stream:
            return json.load(stream)
    except (ValueError, UnicodeDecodeError) as error:
        raise InputError(f"{shown} is not valid JSON ({error}); fix the file") from None


def fingerprint(spec: str, folder: str, cache: StatCache) -> dict[str, Any]:
    """Return the ``[checkpoint]`` lock table of a checkpoint folder."""
    files = list_files(folder, spec)
    shown = spec if not spec.startswith("hf:") else folder
    if not any(classify(name) == "weights" for name in files):
        raise InputError(
            f"checkpoint {shown} contains no weights file (*.safetensors, *.bin, "
            "*.gguf); point [model] checkpoint at the model folder"
        )
    parts = _hash_parts(spec, folder, files, cache)
    table: dict[str, Any] = {"source": spec, **_snapshot_fields(folder)}
    for part in PARTS:
        table[part] = _part_entry(spec, folder, part, parts[part], files)
    # The snapshot revision is part of the identity, so that a lock never
    # names a revision other than the one whose files it hashed.
    identity = {part: table[part]["digest"] for part in PARTS}
    if "hf_revision" in table:
        identity["hf_revision"] = table["hf_revision"]
    table["digest"] = digest_value(identity)
    return table


def _hash_parts(
    spec: str, folder: str, files: list[str], cache: StatCache
) -> dict[str, dict[str, str]]:
    """Digest every file, reusing the stat cache, grouped by part."""
    sizes = {name: _stat(folder, name, spec).st_size for name in files}
    progress = Progress("hashing checkpoint", sum(sizes.values()))
    parts: dict[str, dict[str, str]] = {part: {} for part in PARTS}
    for name in files:
        path = os.path.join(folder, name)
        info = _stat(folder, name, spec)
        key = f"raw:{os.path.realpath(path)}"
        digest = cache.get(key, info)
        if digest is None:
            started = now_ns()
            digest = digest_file(path, f"{spec}/{name}", progress.advance)
            cache.put(key, info, started, digest)
        else:
            progress.advance(info.st_size)
        parts[classify(name)][name] = digest
    progress.close()
    return parts


def _snapshot_fields(folder: str) -> dict[str, str]:
    """Return ``hf_repo`` and ``hf_revision`` for a Hugging Face cache snapshot."""
    match = HF_SNAPSHOT.search(os.path.realpath(folder).replace(os.sep, "/")) or (
        HF_SNAPSHOT.search(folder.replace(os.sep, "/"))
    )
    if match is None:
        return {}
    return {
        "hf_repo": f"{match.group(1)}/{match.group(2)}",
        "hf_revision": match.group(3),
    }


def _part_entry(
    spec: str, folder: str, part: str, digests: dict[str, str], files: list[str]
) -> dict[str, Any]:
    entry: dict[str, Any] = {"digest": digest_value(digests)}
    # Only the top-level file configures the model; a config.json in a
    # sub-folder (a vision tower, say) is hashed but not expanded.
    if f"{part}.json" in digests:
        settings = _read_json(
            os.path.join(folder, f"{part}.json"), f"{spec}/{part}.json"
        )
        if isinstance(settings, dict):
            entry["settings"] = _flat_settings(settings)
    if part == "tokenizer":
        entry["chat_template"] = _chat_template_digest(folder, files)
    entry["files"] = digests
    return entry


def _stat(folder: str, name: str, spec: str) -> os.stat_result:
    path = os.path.join(folder, name)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise InputError(
                f"checkpoint file {spec}/{name} is a dangling symbolic link to "
                f"{os.readlink(path)}; re-download the model or restore the blob"
            ) from None
        raise InputError(
            f"checkpoint file {spec}/{name} disappeared while hashing; rerun the "
            "command once nothing is writing to the checkpoint"
        ) from None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise InputError(
                f"checkpoint file {spec}/{name} is a symbolic link loop; point the "
                "link at a real file"
            ) from None
        raise InputError(
            f"checkpoint file {spec}/{name} cannot be read: {error.strerror}"
        ) from None
    if not stat.S_ISREG(info.st_mode):
        raise InputError(
            f"checkpoint file {spec}/{name} is not a regular file (a FIFO, socket "
            "or device); remove it from the checkpoint folder"
        )
    return info


def _flat_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """Keep scalar and list values of a config, stringifying anything nested."""
    flat: dict[str, Any] = {}
    for key in sorted(settings):
        value = settings[key]
        if value is None:
            flat[key] = "null"
        elif isinstance(value, (dict, list)):
            flat[key] = json.dumps(value, sort_keys=True)
        else:
            flat[key] = value
    return flat


def _chat_template_digest(folder: str, files: list[str]) -> str:
    """Digest the chat template wherever the checkpoint keeps it."""
    templates: list[Any] = []
    if "chat_template.jinja" in files:
        templates.append(_read_text(folder, "chat_template.jinja"))
    for name in files:
        if name.startswith(EXTRA_TEMPLATES_FOLDER):
            templates.append([name, _read_text(folder, name)])
    for name in ("tokenizer_config.json", "chat_template.json"):
        if name in files:
            data = _read_json(os.path.join(folder, name), name)
            if isinstance(data, dict) and "chat_template" in data:
                templates.append(data["chat_template"])
    return digest_value(templates) if templates else "none"


def _read_text(folder: str, name: str) -> str:
    with open(os.path.join(folder, name), "rb") as stream:
        return stream.read().decode("utf-8", "replace")
