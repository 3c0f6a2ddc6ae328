"""What reaches Slack from a hostile citizen, and the `/borgerbot` overview."""

from __future__ import annotations

import json
from typing import Any

from bot.demo.world import OFFICERS, SandboxWorld, specialist_for
from tests.flow_support import DRAFT, OFFICER, QUESTION, drafted

HOSTILE = ("<!channel> <!here> <@U0KOMM001> Klik <https://svindel.example|borger.dk> "
           "*fed* ```kode``` mit CPR er 010190-1234 og 0101901234 – hvornår henter I storskrald?")


def everything_slack_received(world: SandboxWorld) -> str:
    """Every argument of every Web API call the bot made, as one searchable text."""
    return "\n".join(json.dumps(call.args, ensure_ascii=False) for call in world.slack.calls)


def test_hostile_text_can_never_ping_anyone(world: SandboxWorld) -> None:
    drafted(world, text=HOSTILE)
    sent = everything_slack_received(world)
    assert "<!channel>" not in sent and "<!here>" not in sent
    assert "<@U0KOMM001> Klik" not in sent


def test_hostile_text_can_never_fake_a_link(world: SandboxWorld) -> None:
    drafted(world, text=HOSTILE)
    assert "<https://svindel.example|" not in everything_slack_received(world)


def test_cpr_numbers_never_reach_slack(world: SandboxWorld) -> None:
    drafted(world, text=HOSTILE)
    sent = everything_slack_received(world)
    assert "010190-1234" not in sent and "0101901234" not in sent


def test_very_long_text_is_shortened_with_a_link_to_the_original(world: SandboxWorld) -> None:
    inquiry = world.citizen_writes({"text": QUESTION + " bla" * 2000})
    card = world.slack.message(*world.message_of(inquiry.id or 0))
    quoted = card["blocks"][1]["text"]["text"]
    assert len(quoted) <= 3000
    assert f"<{inquiry.permalink}|" in quoted


def overview_text(answer: dict[str, Any]) -> str:
    return "\n".join(block["text"]["text"] for block in answer["blocks"])


def test_an_officer_sees_all_open_inquiries_by_department(world: SandboxWorld) -> None:
    world.citizen_writes({"text": QUESTION})
    world.citizen_writes({"text": "Mit pas udløber i juni. Kan jeg nå at få et nyt hos Borgerservice?"})
    answer = world.command(OFFICER, "C00000001")
    shown = overview_text(answer)
    assert answer["response_type"] == "ephemeral"
    assert "*Affald og genbrug*" in shown and "*Borgerservice*" in shown
    assert shown.count("Svar senest") == 2


def test_a_specialist_sees_only_the_inquiries_they_drafted(world: SandboxWorld) -> None:
    drafted(world)
    world.citizen_writes({"text": "Hvornår tømmes glascontaineren på Stationsvej?"})
    answer = world.command(specialist_for("affald"), "C00000001")
    assert overview_text(answer).count("Svar senest") == 1


def test_the_overview_leaves_out_answered_inquiries(world: SandboxWorld) -> None:
    inquiry = drafted(world)
    world.click(OFFICERS[1], inquiry.id or 0, "approve", on="approval")
    assert "Svar senest" not in overview_text(world.command(OFFICER, "C00000001"))
    assert world.replies_seen_by_citizen(inquiry.id or 0) == [DRAFT]
