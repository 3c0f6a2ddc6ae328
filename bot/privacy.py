"""Make citizen text safe to show in chat: no CPR numbers, no Slack markup, bounded length.

Everything a citizen (or anyone outside the municipality) wrote passes through
`for_slack` before it reaches a Slack `mrkdwn` text. The order matters: invisible
characters go first (so "010190\u200b-1234" cannot slip past the CPR pattern), then CPR
numbers are masked, then `&`, `<`, `>` are escaped (so no `<!channel>` or fake link
survives), and only then is the text shortened, never in the middle of an entity.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote, urlsplit

CPR_MASK = "[CPR-nummer skjult]"
MAX_URL = 1000  # longer links are dropped rather than cut, so a card stays within its limits

# Any decimal digit counts (fullwidth and Arabic-Indic digits too): the aim is that nobody
# can read the number, not that it was typed on a Danish keyboard.
_CPR = re.compile(
    r"(?<!\d)(?P<day>\d\d)(?P<month>\d\d)(?P<year>\d\d)[-\u2010-\u2015\u2212 \u00a0]?\d{4}(?!\d)"
)
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

# Invisible or direction-changing characters; kept: newline and tab, which carry layout.
_KEEP_CONTROLS = frozenset("\n\t")
_DROP_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co"})
_LINE_SEPARATORS = {"\u2028": "\n", "\u2029": "\n", "\r\n": "\n", "\r": "\n"}
_MANY_BLANK_LINES = re.compile(r"\n{3,}")
_ENTITY_TAIL = re.compile(r"&[a-z]{0,3}$")


def _digit(text: str) -> int:
    return int("".join(str(unicodedata.digit(ch)) for ch in text))


def _is_birth_date(match: re.Match[str]) -> bool:
    """Day and month must exist; 29 February needs a year that is leap in some century."""
    day, month, year = (_digit(match[name]) for name in ("day", "month", "year"))
    if not 1 <= month <= 12 or not 1 <= day <= _DAYS_IN_MONTH[month - 1]:
        return False
    return not (month == 2 and day == 29 and year % 4 != 0)


def mask_cpr(text: str) -> str:
    """Replace every CPR-shaped number with `CPR_MASK`; modulus 11 is deliberately not checked
    because valid numbers issued since 2007 fail it."""
    return _CPR.sub(lambda m: CPR_MASK if _is_birth_date(m) else m[0], text)


def contains_cpr(text: str) -> bool:
    """True when `text` still holds something `mask_cpr` would hide."""
    return any(_is_birth_date(match) for match in _CPR.finditer(text))


def strip_invisible(text: str) -> str:
    """Drop control, zero-width, private-use and bidi-override characters and unify line
    breaks, so a text can neither hide content nor reorder what is shown."""
    for separator, newline in _LINE_SEPARATORS.items():
        text = text.replace(separator, newline)
    return "".join(
        ch
        for ch in text
        if ch in _KEEP_CONTROLS or unicodedata.category(ch) not in _DROP_CATEGORIES
    )


def slack_escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control syntax, `&` first."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def shorten(text: str, limit: int, marker: str) -> str:
    """Cut `text` to at most `limit` characters, ending in `marker` when anything was cut.
    An escaped entity (`&amp;`) is never split, so Slack never shows half of one."""
    if len(text) <= limit:
        return text
    if len(marker) >= limit:
        return marker[:limit]
    head = _ENTITY_TAIL.sub("", text[: limit - len(marker)])
    return head.rstrip() + marker


def for_slack(text: str, limit: int, marker: str) -> str:
    """Citizen text ready for a `mrkdwn` field: clean, CPR-masked, escaped, shortened, with
    blank-line runs capped so a text cannot stretch a card over pages."""
    compact = _MANY_BLANK_LINES.sub("\n\n", strip_invisible(text))
    return shorten(slack_escape(mask_cpr(compact)), limit, marker)


def for_input(text: str, limit: int) -> str:
    """Text for an editable field (a modal's initial value): cleaned and CPR-masked but not
    escaped, because whatever the officer submits is sent to the citizen as typed."""
    return mask_cpr(strip_invisible(text))[:limit]


def slack_link(url: str | None, label: str) -> str:
    """A mrkdwn link with an escaped label; only http(s) targets, with `|` and `>` neutralised
    so the URL cannot close the link early. Without a usable URL the label stands alone."""
    label = slack_escape(label)
    if not url or _scheme(url) not in ("http", "https"):
        return label
    safe_url = slack_escape(quote(strip_invisible(url), safe=":/?#[]@!$&'()*+,;=%~-._"))
    if len(safe_url) > MAX_URL:
        return label
    return f"<{safe_url}|{label}>"


def _scheme(url: str) -> str:
    try:
        return urlsplit(url).scheme.lower()
    except ValueError:
        return ""
