"""Where an inquiry goes and why: scoring, post context, ties, flags, and the shipped rules."""

from __future__ import annotations

import pytest

from bot.evaluation import evaluate, load_examples
from bot.routing import route
from bot.rules import RuleSet, load_rules, parse_rules
from tests.conftest import DEV_SET, RULES_FILE

RULES = """\
fallback: kommunikation
routes:
  kommunikation:
    name: Kommunikationsenheden
    channel: "#k"
    rules:
      - keywords: [borgmester]
  affald:
    name: Affald og genbrug
    channel: "#a"
    rules:
      - weight: 2
        keywords: [storskrald]
      - keywords: [container]
  vej_park:
    name: Veje, stier og grønne områder
    channel: "#v"
    rules:
      - weight: 2
        keywords: [cykelsti]
      - keywords: [parkering]
    exclude: [parkeringsbøde]
flags:
  urgent:
    name: haster
    min_score: 2
    rules:
      - weight: 2
        words: [brand]
      - words: [barn]
  no_reply_needed:
    name: intet svar nødvendigt
    rules:
      - no_words: true
      - kinds: [comment]
        words: [tak]
    exclude_regex: ['\\?']
"""


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return parse_rules(RULES, "test.yaml")


@pytest.fixture(scope="module")
def shipped() -> RuleSet:
    return load_rules(RULES_FILE)


def test_the_route_with_most_points_wins(rules: RuleSet) -> None:
    assert route(rules, "Storskrald ved cykelstien, og en container").route == "affald"


def test_a_bare_question_follows_the_post_it_was_written_under(rules: RuleSet) -> None:
    assert route(rules, "Hvornår kommer I?", post_text="Bestil storskrald online").route == "affald"


def test_the_citizens_own_words_outweigh_the_post(rules: RuleSet) -> None:
    decision = route(rules, "Hullet i cykelstien er stort", post_text="Storskrald og containere")
    assert decision.route == "vej_park"


def test_on_equal_points_the_citizens_own_words_break_the_tie(rules: RuleSet) -> None:
    decision = route(rules, "En container", post_text="Ny parkering og parkeringspladser")
    assert (decision.route, decision.score) == ("affald", 1.0)


def test_on_equal_points_from_the_same_words_the_earlier_route_in_the_file_wins(rules: RuleSet) -> None:
    assert route(rules, "borgmester og parkering").route == "kommunikation"


def test_nothing_found_goes_to_the_fallback_with_a_reason(rules: RuleSet) -> None:
    decision = route(rules, "Hej med jer")
    assert decision.route == "kommunikation"
    assert decision.reasons == ("kommunikation: ingen regel passede, standardruten",)


def test_reasons_say_in_danish_which_term_was_found_where(rules: RuleSet) -> None:
    decision = route(rules, "Hvornår?", post_text="Storskrald hentes mandag")
    assert decision.reasons == ('affald: "storskrald" i opslaget',)


def test_an_exclude_word_rules_the_route_out(rules: RuleSet) -> None:
    assert route(rules, "Jeg fik en parkeringsbøde ved parkering").route == "kommunikation"


def test_a_strong_danger_word_raises_urgent(rules: RuleSet) -> None:
    decision = route(rules, "Det er brand i containeren!")
    assert decision.urgent and 'haster: "brand" i teksten' in decision.reasons


def test_a_weak_danger_word_alone_does_not_raise_urgent(rules: RuleSet) -> None:
    assert not route(rules, "Mit barn vil gerne i klub").urgent


def test_the_post_never_raises_a_flag(rules: RuleSet) -> None:
    assert not route(rules, "Hvad skete der?", post_text="Brand på genbrugsstationen").urgent


def test_an_emoji_only_reaction_needs_no_reply(rules: RuleSet) -> None:
    decision = route(rules, "❤️👏", kind="comment")
    assert decision.no_reply_needed and "intet svar nødvendigt: kun emojis eller tegn" in decision.reasons


def test_a_rule_for_comments_does_not_apply_to_messages(rules: RuleSet) -> None:
    assert not route(rules, "Tak", kind="message").no_reply_needed


def test_a_question_mark_means_a_reply_is_needed(rules: RuleSet) -> None:
    assert not route(rules, "Tak, men hvornår?", kind="comment").no_reply_needed


def test_the_json_shape_is_the_promised_one(rules: RuleSet) -> None:
    assert set(route(rules, "storskrald").as_json()) == {"route", "urgent", "no_reply_needed", "reasons"}


def test_shipped_rules_send_a_bulky_waste_question_to_affald(shipped: RuleSet) -> None:
    assert route(shipped, "Hvornår henter I storskraldet?").route == "affald"


def test_shipped_rules_understand_ascii_spelled_danish(shipped: RuleSet) -> None:
    assert route(shipped, "skraldespanden er ikke blevet toemt i 3 uger").route == "affald"


def test_shipped_rules_let_the_specific_compound_win(shipped: RuleSet) -> None:
    decision = route(shipped, "Naboens brændeovn ryger hele aftenen")
    assert (decision.route, decision.urgent) == ("byggeri_miljo", False)


def test_shipped_rules_flag_a_fire_as_urgent(shipped: RuleSet) -> None:
    assert route(shipped, "Det brænder i en container ved skolen, tyk røg!").urgent


@pytest.mark.skipif(not DEV_SET.exists(), reason=f"dev set not found at {DEV_SET}")
def test_shipped_rules_reach_the_quality_bar_on_the_dev_set(shipped: RuleSet) -> None:
    result = evaluate(shipped, load_examples(DEV_SET))
    assert result.accuracy >= 0.90
    assert result.urgent.recall >= 0.90 and result.urgent.precision >= 0.60
    assert result.no_reply_needed.precision >= 0.90
