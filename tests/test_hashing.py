"""XXH3-128 file digests."""

from __future__ import annotations

import os
import shutil
import subprocess
import tracemalloc
from pathlib import Path

import pytest

from evallock import hashing
from evallock.errors import InputError

XXHSUM = shutil.which("xxhsum")


def xxhsum_digest(path: Path) -> str:
    assert XXHSUM is not None
    done = subprocess.run(
        [XXHSUM, "-H2", str(path)], capture_output=True, text=True, check=True
    )
    return done.stdout.split()[0]


@pytest.mark.skipif(
    XXHSUM is None, reason="xxhsum is not installed (apt-get install xxhash)"
)
@pytest.mark.parametrize("size", [0, 1, 240, 4096, hashing.CHUNK_SIZE + 17])
def test_hashing_matches_xxhsum(tmp_path: Path, size: int) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(os.urandom(size))
    assert hashing.digest_file(str(path), "data.bin") == xxhsum_digest(path)


def test_hashing_digest_bytes_matches_file(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    data = os.urandom(10_000)
    path.write_bytes(data)
    assert hashing.digest_file(str(path), "data.bin") == hashing.digest_bytes(data)


def test_hashing_large_sparse_constant_memory(tmp_path: Path) -> None:
    path = tmp_path / "sparse.bin"
    with open(path, "wb") as stream:
        stream.truncate(256 * 1024 * 1024)
    seen: list[int] = []
    tracemalloc.start()
    try:
        digest = hashing.digest_file(str(path), "sparse.bin", seen.append)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sum(seen) == 256 * 1024 * 1024
    assert len(digest) == 32
    assert peak < 4 * hashing.CHUNK_SIZE


def test_hashing_lfs_pointer_rejected(tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    path.write_text(
        "version https://git-lfs.github.com/spec/v1\n"
        "oid sha256:" + "0" * 64 + "\nsize 123\n"
    )
    with pytest.raises(InputError, match="Git LFS pointer.*git lfs pull"):
        hashing.digest_file(str(path), "model.safetensors")


def test_hashing_dangling_link_named(tmp_path: Path) -> None:
    (tmp_path / "link").symlink_to(tmp_path / "gone")
    with pytest.raises(InputError, match="link is a dangling symbolic link"):
        hashing.digest_file(str(tmp_path / "link"), "link")


def test_hashing_link_loop_named(tmp_path: Path) -> None:
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    with pytest.raises(InputError, match="loop is a symbolic link loop"):
        hashing.digest_file(str(tmp_path / "loop"), "loop")


def test_hashing_value_ignores_key_order() -> None:
    assert hashing.digest_value({"a": 1, "b": [2]}) == hashing.digest_value(
        {"b": [2], "a": 1}
    )


@pytest.mark.parametrize(
    ("data", "eol"),
    [
        (b"a\nb\n", "lf"),
        (b"a\r\nb\r\n", "crlf"),
        (b"a\r\nb\n", "mixed"),
        (b"ab", "none"),
    ],
)
def test_hashing_describe_text_line_endings(data: bytes, eol: str) -> None:
    assert hashing.describe_text(data)["eol"] == eol


def test_hashing_crlf_same_normalised_text() -> None:
    lf = hashing.describe_text(b"one\ntwo\n")
    crlf = hashing.describe_text(b"one\r\ntwo\r\n")
    assert lf["digest"] != crlf["digest"]
    assert lf["text"] == crlf["text"]


def test_hashing_describe_text_flags_binary() -> None:
    facts = hashing.describe_text(b"\x89PNG\r\n\x1a\n\x00\x00")
    assert facts["utf8"] is False
    assert facts["nul"] == 8
