"""Rendering dataset items into prompts through the locked Jinja template.

Templates are loaded from the project folder and may include other files
(a system prompt, few-shot examples). Every file a template loads must be
one of the locked prompt files, because an unlocked include could change
prompts without any drift being reported.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jinja2

from evallock.errors import InputError


class _RecordingLoader(jinja2.FileSystemLoader):
    """A loader that remembers every template file it served."""

    def __init__(self, root: str) -> None:
        super().__init__(root, encoding="utf-8", followlinks=False)
        self.loaded: set[str] = set()

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        self.loaded.add(template)
        return super().get_source(environment, template)


class Renderer:
    """Renders items of one eval; raises InputError on template faults."""

    def __init__(self, root: str, template: str, locked: set[str]) -> None:
        self.loader = _RecordingLoader(root)
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
        return text
