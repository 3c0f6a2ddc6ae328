"""Whatever a citizen writes, routing decides calmly: it never raises, always names a route the
rules file knows, and its reasons are short single lines that quote the rules, never the
citizen, so no CPR number can reach chat, the database or the journal through them.
"""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.privacy import contains_cpr
from bot.routing import RoutingDecision, route
from bot.rules import RuleSet, load_rules, parse_rules
from tests.conftest import RULES_FILE

MAX_REASON = 120
BUNDLED = load_rules(RULES_FILE)
DIGIT_PATTERNS = parse_rules(r"""
routes:
  affald:
    name: Affald
    channel: "#affald"
    rules:
      - regex: ['sag\s*nr\.?\s*\d+', '\d{6}.?\d{4}', '(?s).{0,200}']
  kommunikation:
    name: Kommunikation
    channel: "#kommunikation"
    rules:
      - words: [tak]
fallback: kommunikation
""")
"""Rules whose patterns match digits and anything at all: where quoting the match would leak."""

FRAGMENTS = (
    "010190-1234", "0101901234", "010190\u200b-1234", "３１１２９９－１２３４", "tag 0101901234 venner",
    "sag nr. 2912001234", "<!channel>", "<!here|here>", "<@U0KOMM001>", "<#C123|general>",
    "<https://evil.example|MitID>", "*fed* _kursiv_ ~streg~ `kode`", "<script>alert(1)</script>",
    "&amp;&lt;&gt;", "\u202e", "\u202d", "\u2066", "\u200b", "\u200d", "\ufeff", "\x00", "\x1b[31m",
    "\r\n", "\u2028", "\t", "storskrald", "brand", "tusind tak", "?", "@", "🙏🏽", "👨‍👩‍👧",
    "Ærø Å ø", "ﬁ", "İ", "ß",
)
KINDS = ("comment", "reply", "message", "mention")

hostile_text = st.lists(
    st.one_of(st.text(st.characters(codec="utf-8"), max_size=40), st.sampled_from(FRAGMENTS)),
    max_size=30,
).map("".join)
any_kind = st.one_of(st.none(), st.sampled_from(KINDS), st.text(max_size=20))
rule_sets = st.sampled_from([BUNDLED, DIGIT_PATTERNS])
examples = settings(max_examples=150, deadline=None)


def well_formed(rules: RuleSet, decision: RoutingDecision) -> None:
    assert decision.route in rules.route_ids
    for reason in decision.reasons:
        assert 0 < len(reason) <= MAX_REASON
        assert not any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in reason)
        assert not contains_cpr(reason)


@examples
@given(rules=rule_sets, text=hostile_text, post=st.one_of(st.none(), hostile_text), kind=any_kind,
       platform=st.one_of(st.none(), st.text(max_size=20)))
def test_any_text_gets_a_known_route_with_short_clean_reasons(
    rules: RuleSet, text: str, post: str | None, kind: str | None, platform: str | None
) -> None:
    well_formed(rules, route(rules, text, post_text=post, platform=platform, kind=kind))


@settings(max_examples=20, deadline=None)
@given(rules=rule_sets, piece=st.sampled_from(FRAGMENTS), filler=hostile_text,
       copies=st.integers(min_value=1_000, max_value=20_000))
def test_huge_texts_are_routed_too(rules: RuleSet, piece: str, filler: str, copies: int) -> None:
    text = (piece + " " + filler[:50] + " ") * copies
    well_formed(rules, route(rules, text, post_text=text[:10_000], kind="comment"))


cpr_numbers = st.from_regex(r"[0-2][0-9](0[1-9]|1[0-2])[0-9]{2}-?[0-9]{4}", fullmatch=True)


@examples
@given(rules=rule_sets, cpr=cpr_numbers, kind=st.sampled_from(KINDS))
def test_a_cpr_number_in_the_text_or_post_never_appears_in_a_reason(
    rules: RuleSet, cpr: str, kind: str
) -> None:
    for text in (f"tag {cpr} venner", f"sag nr. {cpr}", f"storskrald {cpr} brand", cpr):
        decision = route(rules, text, post_text=text, kind=kind)
        shown = " ".join(decision.reasons)
        assert cpr not in shown and cpr.replace("-", "") not in shown
        well_formed(rules, decision)


def test_the_bundled_rules_explain_a_pattern_by_the_pattern() -> None:
    """A reason quotes what the rules file says; the citizen's own words stay in the text."""
    decision = route(BUNDLED, "tag 3 venner og vind en iphone", kind="comment")
    assert decision.no_reply_needed
    assert all("tag 3 venner" not in reason for reason in decision.reasons)
