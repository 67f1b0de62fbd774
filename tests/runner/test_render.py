from pathlib import Path

import pytest

from evallock.errors import InputError
from evallock.runner.render import Renderer


def test_render_fields_and_include(tmp_path: Path) -> None:
    (tmp_path / "system.txt").write_text("Add.\n")
    (tmp_path / "t.jinja").write_text('{% include "system.txt" %}{{ a }}+{{ b }}=')
    renderer = Renderer(str(tmp_path), "t.jinja", {"t.jinja", "system.txt"})
    assert renderer.render({"__key__": "1", "a": 2, "b": 3}) == "Add.\n2+3="


def test_render_rejects_unlocked_include(tmp_path: Path) -> None:
    (tmp_path / "extra.txt").write_text("sneaky")
    (tmp_path / "t.jinja").write_text('{% include "extra.txt" %}{{ a }}')
    renderer = Renderer(str(tmp_path), "t.jinja", {"t.jinja"})
    with pytest.raises(InputError, match="extra.txt"):
        renderer.render({"__key__": "1", "a": 2})


def test_render_undefined_field_names_item(tmp_path: Path) -> None:
    (tmp_path / "t.jinja").write_text("{{ question }}")
    renderer = Renderer(str(tmp_path), "t.jinja", {"t.jinja"})
    with pytest.raises(InputError, match="'7'"):
        renderer.render({"__key__": "7", "a": 1})


def test_render_syntax_error_names_line(tmp_path: Path) -> None:
    (tmp_path / "t.jinja").write_text("ok\n{{ a ")
    with pytest.raises(InputError, match="line 2"):
        Renderer(str(tmp_path), "t.jinja", {"t.jinja"})


def test_render_keeps_crlf_bytes(tmp_path: Path) -> None:
    (tmp_path / "t.jinja").write_bytes(b"Q: {{ a }}+{{ b }}\r\nA:\r\n")
    renderer = Renderer(str(tmp_path), "t.jinja", {"t.jinja"})
    assert renderer.render({"__key__": "1", "a": 1, "b": 2}) == "Q: 1+2\r\nA:\r\n"


def test_render_lf_and_crlf_differ(tmp_path: Path) -> None:
    (tmp_path / "lf.jinja").write_bytes(b"{{ a }}\n")
    (tmp_path / "crlf.jinja").write_bytes(b"{{ a }}\r\n")
    lf = Renderer(str(tmp_path), "lf.jinja", {"lf.jinja"}).render({"a": 1})
    crlf = Renderer(str(tmp_path), "crlf.jinja", {"crlf.jinja"}).render({"a": 1})
    assert lf == "1\n"
    assert crlf == "1\r\n"


def test_render_crlf_include_kept(tmp_path: Path) -> None:
    (tmp_path / "system.txt").write_bytes(b"Add.\r\n")
    (tmp_path / "t.jinja").write_bytes(b'{% include "system.txt" %}{{ a }}')
    renderer = Renderer(str(tmp_path), "t.jinja", {"t.jinja", "system.txt"})
    assert renderer.render({"a": 3}) == "Add.\r\n3"


def test_render_crlf_inside_tag_ignored(tmp_path: Path) -> None:
    (tmp_path / "t.jinja").write_bytes(b"{% if a %}\r\nyes{% endif %}\r\n")
    renderer = Renderer(str(tmp_path), "t.jinja", {"t.jinja"})
    assert renderer.render({"a": 1}) == "\r\nyes\r\n"
