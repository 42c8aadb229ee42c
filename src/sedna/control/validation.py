"""The field checker that :mod:`sedna.control.resources` (specs),
:mod:`sedna.control.podspec` (pod templates) and :mod:`sedna.control.status`
(status bodies) share: a :class:`Checker` collects every problem as
``(path, message)`` instead of stopping at the first, and the path helpers
spell field paths the same way everywhere (``spec.trainSpec.trigger``,
``containers[0]``, ``metadata.labels["app.kubernetes.io/name"]``).

Besides types, it checks what the operating system will later refuse, so that
a manifest is refused at apply rather than failing every start: strings
handed to ``execve`` (environment, arguments) or used as paths may not hold a
NUL byte or characters that have no bytes in the file-system encoding, and
have the kernel's length limits; numbers have bounds.
"""

from __future__ import annotations

import difflib
import json
import math
import re

from sedna.control.names import dns_problem

ROOT = "(root)"

#: Longest single argument or ``NAME=value`` environment string Linux accepts (MAX_ARG_STRLEN).
MAX_ARG_BYTES = 131072
#: Longest path the kernel accepts (PATH_MAX, including the terminating NUL).
MAX_PATH_BYTES = 4095

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def typename(v) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, (list, tuple)):
        return "list"
    if isinstance(v, dict):
        return "mapping"
    return type(v).__name__


def key_path(parent: str, key) -> str:
    """The path of mapping key ``key`` under ``parent``."""
    part = key if isinstance(key, str) and _IDENT.match(key) else None
    if part is None:
        part = "[" + json.dumps(str(key)) + "]"
        return (parent if parent != ROOT else "") + part
    return part if parent in ("", ROOT) else f"{parent}.{part}"


def index_path(parent: str, i: int) -> str:
    return f"{parent}[{i}]"


def is_number(v) -> bool:
    """A finite int or float (not a boolean)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


class Checker:
    """Collects ``(path, message)`` problems; each check returns the value when it passes."""

    def __init__(self):
        self.errors: list[tuple[str, str]] = []

    def err(self, path, msg):
        self.errors.append((path, msg))

    # -- structure
    def mapping(self, value, path, allowed=None, required=()):
        """``value`` if it is a mapping (unknown and missing keys reported), else None."""
        if not isinstance(value, dict):
            self.err(path, f"must be a mapping (got {typename(value)})")
            return None
        for k in value:
            if not isinstance(k, str):
                self.err(path, f"field names must be strings (got {typename(k)} {k!r})")
            elif allowed is not None and k not in allowed:
                self.err(key_path(path, k), "unknown field" + suggest(k, allowed))
        for k in required:
            if k not in value:
                self.err(key_path(path, k), "required")
        return value

    def list(self, value, path, non_empty=False):
        if not isinstance(value, list):
            self.err(path, f"must be a list (got {typename(value)})")
            return None
        if non_empty and not value:
            self.err(path, "must not be empty")
        return value

    def string(self, value, path, non_empty=False, choices=None):
        if not isinstance(value, str):
            self.err(path, f"must be a string (got {typename(value)})")
            return None
        if non_empty and not value.strip():
            self.err(path, "must not be empty")
            return None
        if choices is not None and value not in choices:
            self.err(path, "must be one of " + " ".join(ch or '""' for ch in choices))
            return None
        return value

    def dns(self, value, path, label=False):
        """A DNS-1123 subdomain (or, with ``label``, a DNS-1123 label); see :mod:`sedna.control.names`."""
        if self.string(value, path) is None:
            return
        problem = dns_problem(value, label=label)
        if problem:
            self.err(path, problem)

    def str_map(self, value, path):
        if not isinstance(value, dict):
            self.err(path, f"must be a mapping of strings to strings (got {typename(value)})")
            return
        for k, v in value.items():
            if not isinstance(k, str):
                self.err(path, f"keys must be strings (got {typename(k)} {k!r})")
            elif not isinstance(v, str):
                self.err(key_path(path, k), f"must be a string (got {typename(v)}){quote_hint(v)}")

    def loose(self, value, path, kind):
        """Loose type check of a field the local runtime does not interpret."""
        ok = {
            "str": lambda v: isinstance(v, str),
            "bool": lambda v: isinstance(v, bool),
            "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "map": lambda v: isinstance(v, dict),
            "list": lambda v: isinstance(v, list),
            "any": lambda v: True,
        }[kind](value)
        if not ok:
            name = {"str": "a string", "bool": "a boolean", "int": "an integer",
                    "map": "a mapping", "list": "a list"}[kind]
            self.err(path, f"must be {name} (got {typename(value)})")

    # -- numbers
    def integer(self, value, path, low, high, what="an integer"):
        """``value`` if it is an integer (not a boolean) with ``low <= value <= high``, else None."""
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.err(path, f"must be {what} from {low} to {high} (got {value!r})")
            return None
        return value

    def number(self, value, path, low, high, what="a number"):
        """``value`` if it is a finite number with ``low <= value <= high``, else None."""
        if not is_number(value) or not low <= value <= high:
            self.err(path, f"must be {what} >= {low:g} and <= {high:g} (got {value!r})")
            return None
        return value

    # -- what the operating system accepts
    def os_string(self, value, path, max_bytes=MAX_ARG_BYTES, what="value"):
        """Report a string the OS would refuse in an environment, an argument or a path."""
        if not isinstance(value, str):
            return
        problem = os_string_problem(value, max_bytes)
        if problem:
            self.err(path, f"{problem}: the operating system refuses such a {what}")


def quote_hint(v) -> str:
    if isinstance(v, bool):
        return f"; quote it: \"{str(v).lower()}\""
    if isinstance(v, (int, float)):
        return f"; quote it: \"{v}\""
    return ""


def suggest(name, allowed) -> str:
    """``"; did you mean 'x'?"`` for the allowed name ``name`` most likely stands for: the same
    but for case or a plural, one it starts with (``trainProbability``: ``trainProb``), or the
    closest spelling (``treshold``: ``threshold``); "" when none is close."""
    if not isinstance(name, str) or not name:
        return ""
    low = name.lower()
    by_low = {a.lower(): a for a in allowed if isinstance(a, str)}
    for lo, a in by_low.items():
        if lo == low or lo.rstrip("s") == low.rstrip("s"):
            return f"; did you mean {a!r}?"
    prefixed = [a for lo, a in by_low.items() if len(lo) >= 4 and (low.startswith(lo) or lo.startswith(low))]
    close = prefixed or [by_low[m] for m in difflib.get_close_matches(low, list(by_low), n=1, cutoff=0.75)]
    return f"; did you mean {close[0]!r}?" if close else ""


def os_string_problem(value: str, max_bytes: int = MAX_ARG_BYTES) -> str | None:
    """Why the OS would refuse ``value`` as an argument, environment string or path, or None."""
    if "\x00" in value:
        return f"must not contain a NUL character (at index {value.index(chr(0))})"
    try:
        data = value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError as e:
        return f"must be valid Unicode text (character {e.start} is a lone surrogate {value[e.start]!r})"
    if len(data) > max_bytes:
        return f"is {len(data)} bytes long; at most {max_bytes} are allowed"
    return None
