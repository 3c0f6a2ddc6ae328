"""The Block Kit messages and modals people see in Slack, checked against Slack's limits as
the fake Slack enforces them."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.chat import slack_blocks as sb
from bot.chat.base import InquiryView
from bot.privacy import CPR_MASK, contains_cpr
from bot.sandbox.slack_blockkit import block_errors, view_errors
from bot.sandbox.slack_workspace import BLOCK_TEXT_BUDGET

NOW = datetime(2026, 5, 12, 8, 50, tzinfo=UTC)  # Tuesday 10.50 in Copenhagen
PERMALINK = "https://facebook.example/post/1?comment=2"
ROUTES = (("teknik", "Teknik og Miljø"), ("born", "Børn & Unge"),
          ("borgerservice", "Borgerservice"))


def make_view(**changes: Any) -> InquiryView:
    view = InquiryView(
        inquiry_id=7, platform="facebook", kind="comment", author_name="Ida Hansen",
        text="Hvornår kommer storskrald på Vestvej?", post_text="Nyt om affald",
        permalink=PERMALINK, route_id="teknik", route_name="Teknik og Miljø",
        reasons=("nævner 'storskrald'",), urgent=False, no_reply_needed=False,
        deadline_at=NOW + timedelta(hours=3, minutes=40), now=NOW, state="posted",
        actions=("draft", "move", "no_reply"), route_choices=ROUTES)
    return dataclasses.replace(view, **changes)


def all_text(node: Any) -> str:
    return json.dumps(node, ensure_ascii=False)


def texts_in(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["text"]] if isinstance(node.get("text"), str) else []
        return own + [t for k, v in node.items() for t in texts_in(v)]
    if isinstance(node, list):
        return [t for item in node for t in texts_in(item)]
    return []


def elements(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


def test_card_tells_platform_author_text_post_deadline_and_why() -> None:
    shown = all_text(sb.inquiry_card(make_view()))
    for expected in ("Ny henvendelse: Kommentar på Facebook", "*Ida Hansen* skrev:",
                     "storskrald på Vestvej", "Skrevet under opslaget: Nyt om affald",
                     "Svar senest tirsdag kl. 14.30 (om 3 t 40 min)",
                     "Sendt til *Teknik og Miljø*"):
        assert expected in shown


def test_card_links_to_the_original() -> None:
    assert "<https://facebook.example/post/1?comment=2|Se henvendelsen på platformen>" in all_text(
        sb.inquiry_card(make_view()))


def test_urgent_card_says_so_in_the_header_and_body() -> None:
    card = sb.inquiry_card(make_view(urgent=True))
    assert card["blocks"][0]["text"]["text"].startswith("🚨 Haster")
    assert "ring 112" in all_text(card)


def test_urgent_card_links_the_crisis_plan_and_names_who_is_on_call() -> None:
    card = all_text(sb.inquiry_card(make_view(urgent=True, crisis_plan_url="https://kommune.example/beredskab",
                                              on_call="<@U0ONCALL>")))
    assert "<https://kommune.example/beredskab|kommunens beredskabsplan>" in card
    assert "Vagthavende: <@U0ONCALL>" in card


def test_draft_modal_for_an_urgent_inquiry_starts_with_the_emergency_numbers() -> None:
    modal = sb.draft_modal(make_view(urgent=True), greeting="Hej Ida", sign_off="Venlig hilsen Albertslund")
    assert modal["blocks"][-1]["element"]["initial_value"] == (
        "Hej Ida\n\nEr der fare for liv: ring 112. Politiet: 114.\n\nVenlig hilsen Albertslund")


def test_card_offers_draft_move_and_no_reply() -> None:
    found = [e["action_id"] for e in elements(sb.inquiry_card(make_view()))]
    assert found == ["draft", "move", "no_reply"]


def test_buttons_carry_the_inquiry_id() -> None:
    assert {e.get("value") for e in elements(sb.inquiry_card(make_view())) if "value" in e} == {"7"}


def test_move_menu_lists_the_other_departments_only() -> None:
    menu = next(e for e in elements(sb.inquiry_card(make_view())) if e["action_id"] == "move")
    assert [o["value"] for o in menu["options"]] == ["born", "borgerservice"]


def test_no_reply_needed_asks_for_confirmation_first() -> None:
    button = next(e for e in elements(sb.inquiry_card(make_view())) if e["action_id"] == "no_reply")
    assert button["confirm"]["confirm"]["text"] == "Ja, luk den"


def test_a_card_without_actions_has_no_buttons() -> None:
    assert elements(sb.inquiry_card(make_view(actions=()))) == []


def test_card_shows_status_lines_and_the_reply_link() -> None:
    view = make_view(actions=(), status_lines=("✅ Besvaret – godkendt af <@U9>",),
                     reply_permalink="https://facebook.example/reply/3")
    shown = all_text(sb.inquiry_card(view))
    assert "godkendt af <@U9>" in shown
    assert "<https://facebook.example/reply/3|Se svaret>" in shown


def test_approval_request_shows_the_draft_and_its_author() -> None:
    view = make_view(draft_text="Hej Ida\nStorskrald kommer torsdag.", draft_author="U42",
                     actions=("approve", "edit", "reject"))
    message = sb.approval_request(view)
    assert "*Udkast fra <@U42>:*\nHej Ida\nStorskrald kommer torsdag." in texts_in(message)
    assert [e["action_id"] for e in elements(message)] == ["approve", "edit", "reject"]


def test_each_message_shows_only_its_own_buttons() -> None:
    view = make_view(actions=("draft", "approve", "hide"))
    assert [e["action_id"] for e in elements(sb.inquiry_card(view))] == ["draft", "hide"]
    assert [e["action_id"] for e in elements(sb.approval_request(view))] == ["approve", "hide"]


def test_a_very_long_text_is_shortened_with_a_link_to_the_original() -> None:
    card = sb.inquiry_card(make_view(text="ord " * 5000))
    body = card["blocks"][1]["text"]["text"]
    assert len(body) <= sb.SECTION_TEXT
    assert body.endswith(f"(forkortet) <{PERMALINK}|Læs hele teksten>")
    assert block_errors(card["blocks"]) == []


def test_notification_text_is_escaped_and_masked() -> None:
    card = sb.inquiry_card(make_view(author_name="<!channel> 010190-1234"))
    assert card["text"] == (
        f"Kommentar på Facebook fra &lt;!channel&gt; {CPR_MASK} til Teknik og Miljø")


def test_draft_modal_is_prefilled_with_greeting_and_sign_off() -> None:
    modal = sb.draft_modal(make_view(), greeting="Hej Ida", sign_off="Venlig hilsen Albertslund")
    reply = modal["blocks"][-1]
    assert (modal["callback_id"], modal["private_metadata"]) == ("draft_modal", "7")
    assert reply["element"]["initial_value"] == "Hej Ida\n\n\n\nVenlig hilsen Albertslund"
    assert (reply["block_id"], reply["element"]["action_id"]) == ("reply_block", "reply_input")


def test_direct_answer_modal_approves_on_submit() -> None:
    modal = sb.draft_modal(make_view(), greeting="Hej", sign_off="Hilsen", direct=True)
    assert (modal["callback_id"], modal["submit"]["text"]) == ("answer_modal", "Godkend og send")


def test_edit_modal_holds_the_draft_as_typed_but_without_cpr_numbers() -> None:
    modal = sb.edit_modal(make_view(draft_text="Hej <Ida> & 010190-1234"))
    assert modal["blocks"][-1]["element"]["initial_value"] == f"Hej <Ida> & {CPR_MASK}"


def test_reject_modal_asks_for_a_comment() -> None:
    modal = sb.reject_modal(make_view())
    assert modal["blocks"][-1]["label"]["text"] == "Hvorfor afviser du udkastet?"
    assert modal["callback_id"] == "reject_modal"


def test_move_modal_names_the_new_department_and_carries_both_ids() -> None:
    modal = sb.move_modal(make_view(), "born")
    assert modal["private_metadata"] == "7:born"
    assert "Flyt henvendelsen til *Børn &amp; Unge*?" in all_text(modal)
    assert modal["blocks"][-1]["optional"] is True


def test_overview_without_open_inquiries_says_so() -> None:
    assert "ingen åbne henvendelser" in all_text(sb.overview([], everyone=False))


def test_overview_for_the_communication_unit_groups_by_department() -> None:
    views = [make_view(route_name=name) for name in ("Teknik", "Børn", "Teknik")]
    sections = [b["text"]["text"] for b in sb.overview(views, everyone=True)["blocks"][1:]]
    assert [s.splitlines()[0] for s in sections] == ["*Teknik*", "*Børn*"]
    assert len(sections[0].splitlines()) == 3


def test_overview_of_many_departments_and_inquiries_stays_within_slack_limits() -> None:
    views = [make_view(route_name=f"Afdeling {i % 70}", inquiry_id=i) for i in range(700)]
    message = sb.overview(views, everyone=True)
    assert block_errors(message["blocks"]) == []
    assert message["blocks"][-1]["text"]["text"].startswith("… og ")


hostile = st.lists(st.one_of(st.sampled_from([
    "<!channel>", "<!here>", "<@U123>", "<http://evil.example|Din bank>", "&", "&lt;", ">",
    "\u202e", "\u200b", "\x00", "```", "*", "010190-1234", "0101901234", "\n" * 5, "x" * 4000,
]), st.text()), max_size=12).map("".join)


@st.composite
def hostile_views(draw: st.DrawFn) -> InquiryView:
    return make_view(
        author_name=draw(hostile), text=draw(hostile), post_text=draw(hostile),
        reasons=tuple(draw(st.lists(hostile, max_size=3))), draft_text=draw(hostile),
        draft_author="U42", urgent=draw(st.booleans()),
        actions=("draft", "move", "no_reply", "approve", "edit", "reject", "retry", "hide"))


def rendered(view: InquiryView) -> list[tuple[dict[str, Any], bool]]:
    """Every message (False) and modal (True) the bot can show for `view`."""
    return [(sb.inquiry_card(view), False), (sb.approval_request(view), False),
            (sb.overview([view], everyone=True), False), (sb.edit_modal(view), True),
            (sb.draft_modal(view, greeting="Hej", sign_off="Hilsen"), True),
            (sb.reject_modal(view), True), (sb.move_modal(view, "born"), True)]


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_views())
def test_hostile_text_never_pings_links_leaks_cpr_or_breaks_blocks(view: InquiryView) -> None:
    for payload, modal in rendered(view):
        problems = view_errors(payload) if modal else block_errors(
            payload["blocks"], text_budget=BLOCK_TEXT_BUDGET)
        assert problems == []
        for text in texts_in(payload):
            assert not re.search(r"<[!@#]", text.replace("<@U42>", ""))
            assert all(url == PERMALINK for url in re.findall(r"<([^|>]*)\|", text))
            assert not contains_cpr(text)
        modal_input = payload.get("blocks", [{}])[-1].get("element", {}).get("initial_value", "")
        assert not contains_cpr(modal_input)
