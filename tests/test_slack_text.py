"""Slack message → citizen text, on payloads shaped the way Slack delivers them
(https://docs.slack.dev/messaging/formatting-message-text, "Retrieving messages";
https://docs.slack.dev/reference/block-kit/blocks/rich-text-block), and the fake Slack's
composer, which must produce those shapes from what a person types."""

from __future__ import annotations

from typing import Any

import pytest

from bot import texts
from bot.chat.slack_text import NotForCitizens, citizen_text
from bot.sandbox.slack import FakeSlack

NAMES = {"U0MET": "Mette"}.get


def _rich(*elements: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"type": "rich_text", "block_id": "Xy1", "elements": list(elements)}]


def _section(*elements: dict[str, Any]) -> dict[str, Any]:
    return {"type": "rich_text_section", "elements": list(elements)}


# A message as a Slack client sends it: the same content in `text` (mrkdwn) and `blocks`.
CLIENT_MESSAGE = {
    "type": "message", "user": "U0SPEC", "ts": "1700000005.000300",
    "text": "Se <https://kk.dk/a?b=1&amp;c=2|her> &amp; skriv til <mailto:post@kk.dk|post@kk.dk>, "
            "<@U0MET> svarer *i dag* :wave::skin-tone-3:",
    "blocks": _rich(_section(
        {"type": "text", "text": "Se "},
        {"type": "link", "url": "https://kk.dk/a?b=1&c=2", "text": "her"},
        {"type": "text", "text": " & skriv til "},
        {"type": "link", "url": "mailto:post@kk.dk", "text": "post@kk.dk"},
        {"type": "text", "text": ", "},
        {"type": "user", "user_id": "U0MET"},
        {"type": "text", "text": " svarer "},
        {"type": "text", "text": "i dag", "style": {"bold": True}},
        {"type": "text", "text": " "},
        {"type": "emoji", "name": "wave", "unicode": "1f44b-1f3fc", "skin_tone": 3})),
}
PLAIN = "Se her (https://kk.dk/a?b=1&c=2) & skriv til post@kk.dk, Mette svarer i dag 👋🏼"


def test_a_client_message_reads_as_plain_text_from_its_rich_text_block() -> None:
    assert citizen_text(CLIENT_MESSAGE, NAMES) == PLAIN


def test_the_mrkdwn_text_alone_reads_the_same() -> None:
    assert citizen_text({"text": CLIENT_MESSAGE["text"]}, NAMES) == PLAIN


def test_an_escaped_entity_the_person_typed_stays_visible() -> None:
    """Typing "&lt;" in Slack arrives as "&amp;lt;": the citizen reads "&lt;", not "<"."""
    assert citizen_text({"text": "skriv &amp;lt; og &lt;3"}, NAMES) == "skriv &lt; og <3"


def test_a_bare_link_is_the_url_and_a_typed_www_link_keeps_what_was_typed() -> None:
    text = "<https://kk.dk> og <http://www.kk.dk|www.kk.dk>"
    assert citizen_text({"text": text}, NAMES) == "https://kk.dk og www.kk.dk"


def test_formatting_markers_go_but_underscores_inside_words_stay() -> None:
    text = "*fed* _kursiv_ ~slettet~ *_begge_* fil_navn_her.pdf kl. 10:30:00"
    assert citizen_text({"text": text}, NAMES) == "fed kursiv slettet begge fil_navn_her.pdf kl. 10:30:00"


def test_lists_quotes_and_code_read_as_lines() -> None:
    message = {"text": "ignored", "blocks": _rich(
        _section({"type": "text", "text": "Husk:\n"}),
        {"type": "rich_text_list", "style": "bullet", "indent": 0, "elements": [
            _section({"type": "text", "text": "pas"}), _section({"type": "text", "text": "kørekort"})]},
        {"type": "rich_text_quote", "elements": [_section({"type": "text", "text": "citat"})]},
        {"type": "rich_text_preformatted", "border": 0, "elements": [{"type": "text", "text": "kode"}]},
    )}
    assert citizen_text(message, NAMES) == "Husk:\n• pas\n• kørekort\ncitat\nkode"


@pytest.mark.parametrize(("message", "note"), [
    ({"text": "<!here> svar"}, texts.draft_has_internal_mention("@here")),
    ({"text": "se <#C0AB|affald>"}, texts.draft_has_internal_mention("#affald")),
    ({"text": "<!subteam^S0AB> svar"}, texts.draft_has_internal_mention("@gruppe")),
    ({"text": "spørg <@U0UKENDT>"}, texts.draft_has_unknown_person()),
    ({"text": "x", "blocks": _rich(_section({"type": "broadcast", "range": "channel"}))},
     texts.draft_has_internal_mention("@channel")),
    ({"text": "x", "blocks": _rich(_section({"type": "emoji", "name": "kommunelogo"}))},
     texts.draft_has_custom_emoji("kommunelogo")),
], ids=["here", "channel", "usergroup", "unknown-person", "rich-broadcast", "custom-emoji"])
def test_what_only_slack_can_show_is_refused_with_a_danish_note(message: dict[str, Any], note: str) -> None:
    with pytest.raises(NotForCitizens) as refused:
        citizen_text(message, NAMES)
    assert refused.value.note == note


def test_a_date_shows_its_fallback() -> None:
    assert citizen_text({"text": "senest <!date^1700000000^{date_short}|14. nov>"}, NAMES) == "senest 14. nov"


# --- the fake Slack as a Slack client would store a typed message -------------------------------

def test_the_fake_stores_typed_text_escaped_and_wrapped_with_a_rich_text_block(slack: FakeSlack) -> None:
    slack.add_user("U0MET", "mette")
    slack.add_channel("C1", "affald", members=("U0MET",))
    said = slack.say("C1", "U0MET", "Se [her](https://kk.dk/a?b=1&c=2) & skriv til post@kk.dk, @U0MET "
                                    "svarer *i dag* :wave::skin-tone-3:")
    assert said["text"] == CLIENT_MESSAGE["text"]
    assert said["blocks"][0]["elements"] == CLIENT_MESSAGE["blocks"][0]["elements"]


def test_the_fake_wraps_broadcasts_channels_and_groups(slack: FakeSlack) -> None:
    slack.add_user("U0MET", "mette")
    slack.add_usergroup("S0AB", ("U0MET",))
    slack.add_channel("C1", "affald", members=("U0MET",))
    said = slack.say("C1", "U0MET", "@here se #affald og @S0AB < 3 > 2")
    assert said["text"] == "<!here> se <#C1|affald> og <!subteam^S0AB> &lt; 3 &gt; 2"


def test_an_edit_in_the_fake_is_escaped_like_the_original(slack: FakeSlack) -> None:
    slack.add_user("U0MET", "mette")
    slack.add_channel("C1", "affald", members=("U0MET",))
    ts = slack.say("C1", "U0MET", "først")["ts"]
    changed = slack.edit("C1", ts, "U0MET", "A & B")
    assert (changed["message"]["text"], changed["message"]["blocks"][0]["elements"][0]["elements"]) == (
        "A &amp; B", [{"type": "text", "text": "A & B"}])
