"""Rendering dataset items into prompts through the locked Jinja template.

Templates are loaded from the project folder and may include other files
(a system prompt, few-shot examples). Every file a template loads must be
one of the locked prompt files, because an unlocked include could change
prompts without any drift being reported.

Jinja turns every line break in a template's text into ``newline_sequence``,
so a CRLF template would render with LF endings while its lock digest covers
the carriage returns. The loader therefore swaps each carriage return outside
Jinja tags for a marker that Jinja leaves alone, and rendering swaps it back:
prompts keep the template's bytes, as the lock assumes.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import Any

import jinja2

from evallock.errors import InputError

# Jinja tags, whose whitespace (carriage returns included) is not output.
TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)


class _RecordingLoader(jinja2.FileSystemLoader):
    """A loader that remembers every file it served and shields carriage returns."""

    def __init__(self, root: str, marker: str) -> None:
        super().__init__(root, encoding="utf-8", followlinks=False)
        self.loaded: set[str] = set()
        self.marker = marker

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        self.loaded.add(template)
        _, filename, uptodate = super().get_source(environment, template)
        # The base loader reads in text mode, whose universal newlines turn
        # CRLF into LF; the bytes are read again to keep them.
        with open(filename, "rb") as stream:
            source = stream.read().decode("utf-8")
        return self._shield(source), filename, uptodate

    def _shield(self, source: str) -> str:
        if "\r" not in source:
            return source
        parts: list[str] = []
        position = 0
        for match in TAG.finditer(source):
            parts.append(source[position : match.start()].replace("\r", self.marker))
            parts.append(match.group(0))
            position = match.end()
        parts.append(source[position:].replace("\r", self.marker))
        return "".join(parts)


class Renderer:
    """Renders items of one eval; raises InputError on template faults."""

    def __init__(self, root: str, template: str, locked: set[str]) -> None:
        # A random marker cannot occur in item text by accident.
        self.marker = f"\ue000{secrets.token_hex(8)}\ue001"
        self.loader = _RecordingLoader(root, self.marker)
        self.environment = jinja2.Environment(
            loader=self.loader,
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            autoescape=False,
        )
        self.template_name = template
        self.locked = locked
        try:
            self.template = self.environment.get_template(template)
        except jinja2.TemplateSyntaxError as error:
            raise InputError(
                f"{template} line {error.lineno} is not a valid Jinja template: "
                f"{error.message}; fix the template"
            ) from None
        except jinja2.TemplateNotFound as error:
            raise InputError(
                f"template {error.name} is not found in the project; fix the path"
            ) from None

    def render(self, item: dict[str, Any]) -> str:
        fields = {k: v for k, v in item.items() if k != "__key__"}
        try:
            text = self.template.render(item=fields, **fields)
        except jinja2.UndefinedError as error:
            raise InputError(
                f"{self.template_name} uses an undefined value ({error.message}) for "
                f"item {item.get('__key__')!r}; add the field or fix the template"
            ) from None
        except jinja2.TemplateNotFound as error:
            raise InputError(
                f"{self.template_name} includes {error.name}, which is not found; "
                "fix the include"
            ) from None
        unlocked = sorted(self.loader.loaded - self.locked)
        if unlocked:
            raise InputError(
                f"{self.template_name} includes {unlocked[0]}, which is not a locked "
                "prompt file; add it to prompts in .evallock.toml and run "
                "`evallock lock`"
            )
        return text.replace(self.marker, "\r")
