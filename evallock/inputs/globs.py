"""Glob patterns matched against path strings, as ``glob.glob(recursive=True)`` does.

The git index is a list of paths, not a folder that ``glob`` can walk, so
``verify --staged`` matches patterns against those paths with a regular
expression that follows the same rules on POSIX (Python 3.11):

- ``*``, ``?`` and ``[...]`` never cross a ``/``;
- ``**`` is recursive only as a whole path component; inside a component
  (``a**b``) it acts as ``*``;
- a wildcard component matches a name that starts with ``.`` only when the
  pattern component itself starts with ``.``, and ``**`` never descends into
  or matches such names;
- a component without wildcards matches exactly, hidden or not.

Matching is case-sensitive, as on Linux and macOS's default case-sensitive
git configuration.
"""

from __future__ import annotations

import fnmatch
import re

MAGIC = re.compile(r"[*?[]")
NOT_HIDDEN = r"(?!\.)"
# A path component that glob's ``**`` visits: any name not starting with a dot.
VISIBLE_NAME = NOT_HIDDEN + r"[^/]+"


def _bracket(pattern: str, start: int) -> tuple[str, int]:
    """Translate a ``[...]`` class at *start*; return the regex and the next index.

    ``fnmatch`` itself translates the class, so ranges, ``!`` and an unclosed
    ``[`` (a literal character) behave exactly as in ``glob``.
    """
    end = start + 1
    if end < len(pattern) and pattern[end] == "!":
        end += 1
    if end < len(pattern) and pattern[end] == "]":
        end += 1
    end = pattern.find("]", end)
    if end < 0:
        return re.escape("["), start + 1
    translated = fnmatch.translate(pattern[start : end + 1])
    inner = translated.removeprefix("(?s:").removesuffix(")\\Z")
    # A path component never contains "/", so a class cannot match one.
    return f"(?!/){inner}", end + 1


def _component(part: str) -> str:
    if not MAGIC.search(part):
        return re.escape(part)
    pieces = [] if part.startswith(".") else [NOT_HIDDEN]
    index = 0
    while index < len(part):
        char = part[index]
        if char == "*":
            pieces.append("[^/]*")
            while index < len(part) and part[index] == "*":
                index += 1
            continue
        if char == "?":
            pieces.append("[^/]")
        elif char == "[":
            regex, index = _bracket(part, index)
            pieces.append(regex)
            continue
        else:
            pieces.append(re.escape(char))
        index += 1
    return "".join(pieces)


def glob_regex(pattern: str) -> re.Pattern[str]:
    """Compile a normalised relative glob pattern into a regex for whole paths.

    The regex matches file paths only: ``glob`` also returns folders, which
    callers of ``glob`` in evallock discard.
    """
    parts = pattern.split("/")
    regex = ""
    for position, part in enumerate(parts):
        last = position == len(parts) - 1
        if part == "**":
            # Zero or more visible folders, then (when last) a visible file.
            regex += f"(?:{VISIBLE_NAME}/)*"
            if last:
                regex += VISIBLE_NAME
            continue
        regex += _component(part)
        if not last:
            regex += "/"
    return re.compile(regex)


def literal_prefix(pattern: str) -> str:
    """Return the leading folders of *pattern* that contain no wildcard, with "/"."""
    folders: list[str] = []
    for part in pattern.split("/")[:-1]:
        if MAGIC.search(part):
            break
        folders.append(part)
    return "".join(f"{folder}/" for folder in folders)
