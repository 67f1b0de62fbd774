"""The bad-input corpus: one entry per kind of broken input.

Every case starts from the project that ``helpers.project.make_project``
builds, locked and committed. It applies one fault and runs one command.
The command must exit 2 with a single stderr line that contains every
string in ``expected``: the file or key at fault, and the fix.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from helpers.project import CONFIG

LFS_POINTER = (
    b"version https://git-lfs.github.com/spec/v1\n"
    b"oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
    b"size 12345\n"
)
PNG_HEAD = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10"
GZIP_HEAD = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"
BOTH = ("lock", "verify")
DATASET = "data/addition.jsonl"
SYSTEM = "prompts/system.txt"
WEIGHTS = "model/model.safetensors"
CONFLICTED_LOCK = b"<<<<<<< HEAD\nversion = 1\n=======\nversion = 1\n>>>>>>> other\n"

Setup = Callable[[Path, Path], None]


@dataclass(frozen=True)
class Case:
    """One broken input.

    ``files`` maps project paths to new bytes (None deletes the path),
    ``config`` lists (old, new) replacements in ``.evallock.toml``, ``links``
    maps project paths to symbolic-link targets (``{outside}`` is a folder
    outside the repository), and ``setup(root, outside)`` does anything else.
    """

    kind: str
    expected: tuple[str, ...]
    commands: tuple[tuple[str, ...], ...] = (("lock",), ("verify",))
    files: dict[str, bytes | None] = field(default_factory=dict)
    config: tuple[tuple[str, str], ...] = ()
    links: dict[str, str] = field(default_factory=dict)
    setup: Setup | None = None
    env: dict[str, str] = field(default_factory=dict)
    skip: str | None = None


def jsonl(*lines: str) -> bytes:
    return "".join(line + "\n" for line in lines).encode()


def replace_folder_with_file(path: str) -> Setup:
    def setup(root: Path, outside: Path) -> None:
        shutil.rmtree(root / path)
        (root / path).write_text("not a folder\n")

    return setup


def make_fifo(path: str) -> Setup:
    def setup(root: Path, outside: Path) -> None:
        target = root / path
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink()
        os.mkfifo(target)

    return setup


def make_folder(path: str) -> Setup:
    def setup(root: Path, outside: Path) -> None:
        (root / path).unlink()
        (root / path).mkdir()
        (root / path / "part.txt").write_text("x\n")

    return setup


def sparse_file(path: str, size: int) -> Setup:
    def setup(root: Path, outside: Path) -> None:
        with open(root / path, "wb") as stream:
            stream.truncate(size)

    return setup


def non_utf8_name(folder: str) -> Setup:
    def setup(root: Path, outside: Path) -> None:
        name = os.fsdecode(b"caf\xe9.txt")
        (root / folder / name).write_text("12+1=13\n")

    return setup


def remove_git(root: Path, outside: Path) -> None:
    shutil.rmtree(root / ".git")


def empty_repository(root: Path, outside: Path) -> None:
    shutil.rmtree(root / ".git")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)


def unreadable_lock(root: Path, outside: Path) -> None:
    os.chmod(root / "eval.lock", 0)


def outside_file(root: Path, outside: Path) -> None:
    (outside / "system.txt").write_text("From somewhere else.\n")


def outside_folder(root: Path, outside: Path) -> None:
    (outside / "fewshot").mkdir()
    (outside / "fewshot" / "one.txt").write_text("1+1=2\n")
    shutil.rmtree(root / "prompts" / "fewshot")


def add_scorer_eval(root: Path, outside: Path) -> None:
    text = (root / ".evallock.toml").read_text()
    (root / ".evallock.toml").write_text(
        text.replace('"exact_match"', '"python:scoring/score.py:score"')
    )


def config_cut_at(marker: str, extra: int) -> bytes:
    return CONFIG[: CONFIG.index(marker) + extra].encode()


LOCK_CASES = [
    Case(
        "lock-toml-syntax",
        ("eval.lock is not valid TOML", "rerun `evallock lock`"),
        commands=(("verify",), ("diff", "HEAD", "worktree")),
        files={"eval.lock": b"version = 1\n[prompts\n"},
    ),
    Case(
        "lock-truncated",
        ("at the end of the file, line 4", "rerun `evallock lock`"),
        commands=(("verify",),),
        files={"eval.lock": b'version = 1\n\n[prompts]\ndigest = "a04277'},
    ),
    Case(
        "lock-conflict-markers",
        ("eval.lock contains git merge-conflict markers", "rerun `evallock lock`"),
        commands=(("verify",), ("diff", "HEAD", "worktree")),
        files={"eval.lock": CONFLICTED_LOCK},
    ),
    Case(
        "lock-newer-version",
        ("version 7, newer than", "upgrade evallock"),
        commands=(("verify",),),
        files={"eval.lock": b"version = 7\n"},
    ),
    Case(
        "lock-no-version",
        ("no integer 'version' key", "rerun `evallock lock`"),
        commands=(("verify",),),
        files={"eval.lock": b'[prompts]\ndigest = "x"\n'},
    ),
    Case(
        "lock-version-string",
        ("no integer 'version' key",),
        commands=(("verify",),),
        files={"eval.lock": b'version = "1"\n'},
    ),
    Case(
        "lock-binary",
        ("eval.lock is not valid UTF-8", "rerun `evallock lock`"),
        commands=(("verify",),),
        files={"eval.lock": PNG_HEAD},
    ),
    Case(
        "lock-empty",
        ("eval.lock is empty", "rerun `evallock lock`"),
        commands=(("verify",),),
        files={"eval.lock": b""},
    ),
    Case(
        "lock-missing",
        ("eval.lock does not exist", "run `evallock lock`"),
        commands=(("verify",),),
        files={"eval.lock": None},
    ),
    Case(
        "lock-component-not-table",
        ("prompts is not a table", "rerun `evallock lock`"),
        commands=(("verify",),),
        files={"eval.lock": b"version = 1\nprompts = 3\n"},
    ),
    Case(
        "lock-files-not-table",
        ("prompts.files is not a table",),
        commands=(("verify",),),
        files={"eval.lock": b'version = 1\n[prompts]\ndigest = "x"\nfiles = []\n'},
    ),
    Case(
        "lock-is-folder",
        ("eval.lock", "delete it"),
        commands=(("verify",),),
        setup=make_folder("eval.lock"),
    ),
    Case(
        "lock-is-fifo",
        ("eval.lock", "not a regular file"),
        commands=(("verify",),),
        setup=make_fifo("eval.lock"),
    ),
    Case(
        "lock-unreadable",
        ("eval.lock", "Permission denied"),
        commands=(("verify",),),
        setup=unreadable_lock,
        skip="runs as root, which reads files whatever their mode"
        if os.geteuid() == 0
        else None,
    ),
]

CONFIG_CASES = [
    Case(
        "config-toml-syntax",
        (".evallock.toml is not valid TOML", "line 5, column 9"),
        config=(('dtype = "float32"', "dtype = float32"),),
    ),
    Case(
        "config-truncated",
        (".evallock.toml is not valid TOML", "line 2"),
        files={".evallock.toml": config_cut_at('"model"', 4)},
    ),
    Case(
        "config-truncated-header",
        ("at the end of the file, line 1",),
        files={".evallock.toml": config_cut_at("model", 3)},
    ),
    Case(
        "config-unknown-table",
        ("unknown key 'modle'", "did you mean 'model'?"),
        config=(("[model]", "[modle]"),),
    ),
    Case(
        "config-misspelt-engine-key",
        ("unknown key 'max_num_seq' in [engine]", "did you mean 'max_num_seqs'?"),
        config=(("max_num_seqs", "max_num_seq"),),
    ),
    Case(
        "config-misspelt-eval-key",
        ("unknown key 'datset' in [[evals]] number 1", "did you mean 'dataset'?"),
        config=(("dataset =", "datset ="),),
    ),
    Case(
        "config-string-for-integer",
        ("[engine] max_num_seqs = '64' is a string", "must be an integer"),
        config=(("max_num_seqs = 64", 'max_num_seqs = "64"'),),
    ),
    Case(
        "config-string-for-boolean",
        ("[model] chat = 'yes'", "must be a boolean"),
        config=(('checkpoint = "model"', 'checkpoint = "model"\nchat = "yes"'),),
    ),
    Case(
        "config-string-for-list",
        ("prompts = 'prompts/system.txt'", "must be a list"),
        config=(
            (
                'prompts = ["prompts/system.txt", "prompts/fewshot/*.txt"]',
                'prompts = "prompts/system.txt"',
            ),
        ),
    ),
    Case(
        "config-value-for-table",
        ("model must be a table", "[model]"),
        config=(('[model]\ncheckpoint = "model"', 'model = "model"'),),
    ),
    Case(
        "config-vllm-not-table",
        ("[engine.vllm] must be a table",),
        config=(("seed = 0", "seed = 0\nvllm = 3"),),
    ),
    Case(
        "config-missing-checkpoint",
        ("missing the required key 'checkpoint'",),
        config=(('checkpoint = "model"', ""),),
    ),
    Case(
        "config-no-evals",
        ("defines no evaluation", "add an [[evals]] table"),
        files={".evallock.toml": CONFIG[: CONFIG.index("[[evals]]")].encode()},
    ),
    Case(
        "config-eval-missing-template",
        ("missing the key 'template'",),
        config=(('template = "prompts/addition.jinja"', ""),),
    ),
    Case(
        "config-duplicate-eval-names",
        ("two [[evals]] tables are named 'addition'",),
        files={
            ".evallock.toml": (
                CONFIG + "\n" + CONFIG[CONFIG.index("[[evals]]") :]
            ).encode()
        },
    ),
    Case(
        "config-bad-eval-name",
        ("name 'add ition' may contain only letters",),
        config=(('name = "addition"', 'name = "add ition"'),),
    ),
    Case(
        "config-unknown-scorer",
        ("scorer 'fuzzy' is not valid", "regex:<pattern>"),
        config=(('"exact_match"', '"fuzzy"'),),
    ),
    Case(
        "config-invalid-regex-scorer",
        ("[[evals]] number 1 scorer has an invalid regular expression",),
        config=(('"exact_match"', '"regex:([0-9]+"'),),
    ),
    Case(
        "config-prefix-caching",
        ("enable_prefix_caching = true is not allowed",),
        config=(("seed = 0", "seed = 0\nenable_prefix_caching = true"),),
    ),
    Case(
        "config-prefix-caching-vllm",
        ("[engine.vllm] may not set",),
        files={
            ".evallock.toml": (
                CONFIG + "\n[engine.vllm]\nenable_prefix_caching = true\n"
            ).encode()
        },
    ),
    Case(
        "config-engine-key-in-vllm",
        ("'max_num_seqs' belongs in [engine]",),
        files={
            ".evallock.toml": (CONFIG + "\n[engine.vllm]\nmax_num_seqs = 2\n").encode()
        },
    ),
    Case(
        "config-negative-max-tokens",
        ("[sampling] max_tokens = -5 must be greater",),
        config=(("max_tokens = 8", "max_tokens = -5"),),
    ),
    Case(
        "config-top-p-range",
        ("[sampling] top_p must be in (0, 1]",),
        config=(("max_tokens = 8", "max_tokens = 8\ntop_p = 0.0"),),
    ),
    Case(
        "config-nan-temperature",
        ("sampling.temperature = nan", "not a finite number"),
        config=(("temperature = 0.0", "temperature = nan"),),
    ),
    Case(
        "config-unknown-compare-component",
        ("[compare] under_test names unknown component 'weights'",),
        files={
            ".evallock.toml": (
                CONFIG + '\n[compare]\nunder_test = ["weights"]\n'
            ).encode()
        },
    ),
    Case(
        "config-empty",
        (".evallock.toml is empty", "evallock init"),
        files={".evallock.toml": b""},
    ),
    Case(
        "config-binary",
        (".evallock.toml is not valid UTF-8", "save it as UTF-8"),
        files={".evallock.toml": PNG_HEAD},
    ),
    Case(
        "config-conflict-markers",
        ("merge-conflict marker at line 7",),
        config=(("seed = 0", "<<<<<<< ours\nseed = 0\n=======\nseed = 1\n>>>>>>> b"),),
    ),
    Case(
        "config-missing-file",
        ("no .evallock.toml found", "evallock init"),
        files={".evallock.toml": None},
    ),
    Case(
        "config-unknown-format",
        ("format 'parquet' must be one of",),
        config=(
            ('scorer = "exact_match"', 'scorer = "exact_match"\nformat = "parquet"'),
        ),
    ),
    Case(
        "config-unknown-extension",
        ("data/addition.txt", 'set format = "jsonl"'),
        config=(("data/addition.jsonl", "data/addition.txt"),),
        files={"data/addition.txt": b'{"id": "a"}\n'},
    ),
]

INPUT_CASES = [
    Case(
        "prompt-glob-matches-nothing",
        ("prompts pattern 'prompts/fewshot/*.txt' matches no file",),
        setup=lambda root, outside: shutil.rmtree(root / "prompts" / "fewshot"),
    ),
    Case(
        "prompt-missing",
        ("prompts entry 'prompts/system.txt' does not exist",),
        files={SYSTEM: None},
    ),
    Case(
        "template-missing",
        ("template = 'prompts/addition.jinja' does not exist",),
        files={"prompts/addition.jinja": None},
    ),
    Case(
        "template-empty",
        ("template prompts/addition.jinja is empty",),
        files={"prompts/addition.jinja": b"\n"},
    ),
    Case(
        "prompt-non-utf8",
        ("prompts/system.txt is not valid UTF-8", "save it as UTF-8"),
        files={SYSTEM: "Addiere die Zahlen.\n".encode("latin-1") + b"\xe4\n"},
    ),
    Case(
        "prompt-binary",
        ("prompts/system.txt is a binary file", "text file"),
        files={SYSTEM: b"Add\x00the numbers\n"},
    ),
    Case(
        "prompt-lfs-pointer",
        ("prompts/system.txt is a Git LFS pointer", "git lfs pull"),
        files={SYSTEM: LFS_POINTER},
    ),
    Case(
        "prompt-too-large",
        ("prompts/system.txt is 16777217 bytes", "byte limit"),
        setup=sparse_file(SYSTEM, 16 * 1024 * 1024 + 1),
    ),
    Case(
        "prompt-is-fifo",
        ("prompts/system.txt is not a regular file",),
        setup=make_fifo(SYSTEM),
    ),
    Case(
        "prompt-name-not-utf8",
        ("prompts/fewshot/caf\\xe9.txt is not valid UTF-8", "rename the file"),
        setup=non_utf8_name("prompts/fewshot"),
    ),
    Case(
        "checkpoint-name-not-utf8",
        ("caf\\xe9.txt is not valid UTF-8",),
        setup=non_utf8_name("model"),
    ),
    Case(
        "dataset-missing",
        ("dataset = 'data/addition.jsonl' does not exist",),
        files={DATASET: None},
    ),
    Case(
        "dataset-empty", ("data/addition.jsonl holds no items",), files={DATASET: b""}
    ),
    Case(
        "dataset-invalid-jsonl-line",
        ("data/addition.jsonl line 3 is not valid JSON",),
        files={DATASET: jsonl('{"id": "a"}', '{"id": "b"}', '{"id": "c",}')},
    ),
    Case(
        "dataset-truncated-last-line",
        ("data/addition.jsonl line 2 is not valid JSON (Unterminated string at",),
        files={DATASET: b'{"id": "a"}\n{"id": "b", "answer": "4'},
    ),
    Case(
        "dataset-line-not-object",
        ("data/addition.jsonl line 2 is a JSON list",),
        files={DATASET: jsonl('{"id": "a"}', "[1, 2]")},
    ),
    Case(
        "dataset-duplicate-ids",
        ("duplicate id 'a' at lines 1 and 3", "make ids unique"),
        files={DATASET: jsonl('{"id": "a"}', '{"id": "b"}', '{"id": "a"}')},
    ),
    Case(
        "dataset-missing-id-field",
        ("line 1 has no 'qid' field",),
        config=(
            ('scorer = "exact_match"', 'scorer = "exact_match"\nid_field = "qid"'),
        ),
    ),
    Case(
        "dataset-non-utf8",
        ("data/addition.jsonl is not valid UTF-8 (byte 10)",),
        files={DATASET: b'{"q": "caf\xe9"}\n'},
    ),
    Case(
        "dataset-binary",
        ("data/addition.jsonl is a binary file", "text file"),
        files={DATASET: GZIP_HEAD},
    ),
    Case(
        "dataset-lfs-pointer",
        ("data/addition.jsonl is a Git LFS pointer",),
        files={DATASET: LFS_POINTER},
    ),
    Case(
        "dataset-is-folder",
        ("data/addition.jsonl is not a regular file",),
        setup=make_folder(DATASET),
    ),
    Case(
        "dataset-is-fifo",
        ("data/addition.jsonl is not a regular file",),
        setup=make_fifo(DATASET),
    ),
    Case(
        "csv-without-header",
        ("data/items.csv has no header row",),
        config=(("data/addition.jsonl", "data/items.csv"),),
        files={"data/items.csv": b"12,30,42\n55,11,66\n"},
    ),
    Case(
        "csv-empty",
        ("data/items.csv has no header row",),
        config=(("data/addition.jsonl", "data/items.csv"),),
        files={"data/items.csv": b""},
    ),
    Case(
        "csv-extra-fields",
        ("data/items.csv line 3 has more fields than the header",),
        config=(("data/addition.jsonl", "data/items.csv"),),
        files={"data/items.csv": b"a,b,answer\n1,2,3\n4,5,6,7\n"},
    ),
    Case(
        "csv-duplicate-columns",
        ("names column 'a' twice",),
        config=(("data/addition.jsonl", "data/items.csv"),),
        files={"data/items.csv": b"a,a,answer\n1,2,3\n"},
    ),
    Case(
        "json-not-array",
        ("data/items.json contains an object", "wrap the items in [ ]"),
        config=(("data/addition.jsonl", "data/items.json"),),
        files={"data/items.json": b'{"items": [{"id": "a"}]}'},
    ),
    Case(
        "json-element-not-object",
        ("data/items.json element 2 is not a JSON object",),
        config=(("data/addition.jsonl", "data/items.json"),),
        files={"data/items.json": b'[{"id": "a"}, "b"]'},
    ),
    Case(
        "json-invalid",
        ("data/items.json is not valid JSON", "line 1, column"),
        config=(("data/addition.jsonl", "data/items.json"),),
        files={"data/items.json": b'[{"id": "a"},'},
    ),
    Case(
        "path-dotdot",
        ("'../outside.jsonl' leads outside the project",),
        config=(("data/addition.jsonl", "../outside.jsonl"),),
    ),
    Case(
        "path-absolute",
        ("'/etc/hostname' is an absolute path",),
        config=(("prompts/addition.jinja", "/etc/hostname"),),
    ),
    Case(
        "prompt-pattern-absolute",
        ("'/tmp/*.txt' is an absolute path",),
        config=(("prompts/fewshot/*.txt", "/tmp/*.txt"),),
    ),
    Case(
        "prompt-pattern-dotdot",
        ("'prompts/../../*.txt' leads outside",),
        config=(("prompts/fewshot/*.txt", "prompts/../../*.txt"),),
    ),
    Case(
        "symlink-escapes-repo",
        ("prompts/system.txt is a symbolic link to", "outside the repository"),
        files={SYSTEM: None},
        links={SYSTEM: "{outside}/system.txt"},
        setup=outside_file,
    ),
    Case(
        "symlinked-folder-escapes-repo",
        ("outside the repository",),
        links={"prompts/fewshot": "{outside}/fewshot"},
        setup=outside_folder,
    ),
    Case(
        "dangling-link",
        ("prompts/system.txt is a dangling symbolic link",),
        files={SYSTEM: None},
        links={SYSTEM: "gone.txt"},
    ),
    Case(
        "looping-link",
        ("prompts/system.txt is a symbolic link loop",),
        files={SYSTEM: None},
        links={SYSTEM: "system.txt"},
    ),
    Case(
        "checkpoint-missing",
        ("[model] checkpoint = 'model'", "does not exist"),
        setup=lambda root, outside: shutil.rmtree(root / "model"),
    ),
    Case(
        "checkpoint-is-file",
        ("[model] checkpoint = 'model'", "is a file"),
        setup=replace_folder_with_file("model"),
    ),
    Case(
        "checkpoint-without-weights",
        ("contains no weights file",),
        files={WEIGHTS: None},
    ),
    Case(
        "checkpoint-lfs-pointer",
        ("model/model.safetensors is a Git LFS pointer",),
        files={WEIGHTS: LFS_POINTER},
    ),
    Case(
        "checkpoint-dangling-link",
        ("model/tokenizer.json is a dangling symbolic link",),
        files={"model/tokenizer.json": None},
        links={"model/tokenizer.json": "blobs/gone"},
    ),
    Case(
        "checkpoint-looping-link",
        ("model/extra.bin is a symbolic link loop",),
        links={"model/extra.bin": "extra.bin"},
    ),
    Case(
        "checkpoint-folder-loop",
        ("model/again is a symbolic link to model/.",),
        links={"model/again": "."},
    ),
    Case(
        "checkpoint-fifo",
        ("model/extra.bin is not a regular file",),
        setup=lambda root, outside: os.mkfifo(root / "model" / "extra.bin"),
    ),
    Case(
        "checkpoint-config-invalid-json",
        ("model/config.json is not valid JSON",),
        files={"model/config.json": b'{"hidden_size": 128,'},
    ),
    Case(
        "checkpoint-no-max-length",
        ("max_model_len is not set", "set max_model_len"),
        config=(("max_model_len = 64", "max_model_len = 0"),),
        files={"model/config.json": b"{}"},
    ),
    Case(
        "hf-not-in-cache",
        ("'hf:acme/absent' is not in the Hugging Face cache", "HF_HUB_CACHE"),
        config=(('checkpoint = "model"', 'checkpoint = "hf:acme/absent"'),),
        env={"HF_HUB_CACHE": "{outside}"},
    ),
    Case(
        "hf-without-org",
        ("must name ORG/NAME",),
        config=(('checkpoint = "model"', 'checkpoint = "hf:tiny"'),),
    ),
    Case(
        "scorer-file-missing",
        ("scorer file 'scoring/score.py' does not exist",),
        setup=add_scorer_eval,
    ),
    Case(
        "scorer-file-binary",
        ("scoring/score.py is a binary file",),
        files={"scoring/score.py": b"\x7fELF\x02\x01\x01\x00\x00"},
        setup=add_scorer_eval,
    ),
    Case(
        "scorer-path-dotdot",
        ("scorer = '../score.py' leads outside",),
        config=(('"exact_match"', '"python:../score.py:score"'),),
    ),
    Case(
        "outside-git", ("is not inside a git repository", "git init"), setup=remove_git
    ),
    Case(
        "diff-empty-repository",
        ("'HEAD' does not exist", "has no commits yet"),
        commands=(("diff", "HEAD"),),
        setup=empty_repository,
    ),
    Case(
        "diff-unknown-revision",
        ("'v9.9' is not a commit", "git log --oneline"),
        commands=(("diff", "v9.9"),),
    ),
    Case(
        "diff-without-lock-at-revision",
        ("eval.lock does not exist at revision",),
        commands=(("diff", "HEAD~1"),),
    ),
]

CASES = LOCK_CASES + CONFIG_CASES + INPUT_CASES
