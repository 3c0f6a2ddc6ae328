"""Regular expressions from the rules file that cannot freeze the service.

A pattern like `(\\w+\\s?)+$` backtracks exponentially on a citizen's text that almost
matches: Python's `re` then holds the GIL for minutes, so Slack requests time out, polling
stops and SIGTERM goes unheard, and because the inquiry is routed again after a restart it
hangs again. Two defences:

- at load (`borgerbot rules check` and start), `backtracking_risk` refuses the usual shape of
  such patterns: a repeated group with an unbounded repeat inside it (star height above one);
- at run time every pattern runs on the `regex` package, which releases the GIL while it
  matches and stops after `MATCH_TIMEOUT` seconds, on at most `MAX_TEXT` characters. A
  pattern that times out is logged once at ERROR with its file and line and is skipped from
  then on, so one bad pattern costs one timeout per process, not one per inquiry.

Patterns are validated with `re` (same syntax and error messages the file always had) and
run with `regex` (version 0 behaviour, which is `re`'s).
"""

from __future__ import annotations

import logging
import re
import threading
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

import regex

log = logging.getLogger(__name__)

MATCH_TIMEOUT = 0.05
"""Seconds one search may take; a sane pattern needs microseconds on `MAX_TEXT` characters.
The `regex` package checks its clock coarsely, so a timeout costs up to a few times this."""
MAX_TEXT = 5_000
"""Characters of an inquiry a pattern sees; longer texts are cut (keywords still see all)."""

_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT)


def backtracking_risk(pattern: str) -> str | None:
    """Why `pattern` can backtrack catastrophically, or None when no risky shape is found.

    A heuristic, not a proof: it finds nested unbounded repeats such as `(a+)+`, `(\\w+\\s?)+`
    or `(.*x){9}`, the shape behind nearly every real incident; the run-time timeout covers
    the rest (for instance overlapping alternatives like `(a|a)+`). Possessive repeats and
    atomic groups never backtrack and are accepted.
    """
    return _nested(sre_parse.parse(pattern), inside=None)


def _nested(items: Any, inside: str | None) -> str | None:
    for op, av in items:
        if op in _REPEATS:
            _low, high, body = av
            if inside is not None and high == sre.MAXREPEAT:
                return f"an unbounded repeat inside the repeated {inside}"
            found = _nested(body, inside or ("group" if high > 1 else None))
            if found:
                return found
        elif op is sre.SUBPATTERN:
            found = _nested(av[-1], inside)
            if found:
                return found
        elif op is sre.BRANCH:
            for branch in av[1]:
                found = _nested(branch, inside)
                if found:
                    return found
        elif op in (sre.ASSERT, sre.ASSERT_NOT):
            found = _nested(av[1], inside)
            if found:
                return found
        elif op is sre.GROUPREF_EXISTS:
            for branch in av[1:]:
                found = _nested(branch or [], inside)
                if found:
                    return found
    return None


class Pattern:
    """One compiled rules-file pattern with where it was written, searched under a time limit."""

    def __init__(self, source: str, folded: str, file: str, line: int) -> None:
        self.source = source
        """As written in the rules file; shown in reasons and log lines (never citizen text)."""
        self.file = file
        self.line = line
        self._compiled = regex.compile(folded, regex.VERSION0)
        self._lock = threading.Lock()
        self.skipped = False
        """True once the pattern has timed out; it then never matches again in this process."""

    def search(self, text: str) -> bool:
        """Whether the pattern occurs in the first `MAX_TEXT` characters of `text`."""
        if self.skipped:
            return False
        try:
            return self._compiled.search(text[:MAX_TEXT], timeout=MATCH_TIMEOUT) is not None
        except TimeoutError:
            with self._lock:
                first, self.skipped = not self.skipped, True
            if first:
                log.error("%s:%s: regular expression %r took more than %s s on an inquiry and "
                          "is skipped from now on; simplify it and restart (borgerbot rules "
                          "check shows risky patterns)", self.file, self.line, self.source,
                          MATCH_TIMEOUT)
            return False

    def __repr__(self) -> str:
        return f"Pattern({self.source!r}, {self.file}:{self.line})"


def compile_checked(source: str, folded: str, file: str, line: int) -> Pattern:
    """Compile a pattern for the rules file; `re.error` or `ValueError` says what is wrong."""
    re.compile(folded)
    risk = backtracking_risk(folded)
    if risk:
        raise ValueError(risk)
    return Pattern(source, folded, file, line)
