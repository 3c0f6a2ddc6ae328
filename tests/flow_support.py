"""What flow tests share: the scripted people and texts, how to read a Slack message the way
a person reads it (its text, its buttons), and the audit events an action left behind."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from bot.demo.world import OFFICERS, SandboxWorld, Where, specialist_for
from bot.models import Event, Inquiry

OFFICER, OTHER_OFFICER = OFFICERS
QUESTION = "Hvornår bliver mit storskrald hentet? Sofaen står stadig ude ved fortovet."
DRAFT = "Hej, vi henter storskraldet på torsdag. Venlig hilsen Affald og genbrug"


def shown_text(message: dict[str, Any]) -> str:
    """All text a person reads in a Slack message: fallback plus every block's text."""
    parts = [str(message.get("text", ""))]
    for block in message.get("blocks", []):
        if isinstance(block.get("text"), dict):
            parts.append(block["text"]["text"])
        parts += [e["text"] for e in block.get("elements", []) if isinstance(e.get("text"), str)]
    return "\n".join(parts)


def buttons(message: dict[str, Any]) -> list[str]:
    return [e["action_id"] for b in message.get("blocks", []) if b["type"] == "actions"
            for e in b["elements"]]


def thread_notes(world: SandboxWorld, inquiry_id: int) -> list[str]:
    """What the bot wrote in the thread under the inquiry's department card."""
    channel, ts = world.message_of(inquiry_id)
    return [m["text"] for m in world.slack.thread(channel, ts) if m.get("bot_id")]


def comms_history(world: SandboxWorld) -> list[dict[str, Any]]:
    """The top-level messages of the communication unit's channel."""
    comms = world.config.setup.comms_channel.lstrip("#")
    channel = next(c for c in world.slack.workspace.channels.values() if c.name == comms)
    return world.slack.history(channel.id)


def channel_name(world: SandboxWorld, channel: str) -> str:
    return world.slack.workspace.channels[channel].name


def message(world: SandboxWorld, inquiry_id: int, on: Where = "card") -> dict[str, Any]:
    channel, ts = world.message_of(inquiry_id, on)
    return world.slack.message(channel, ts)


def drafted(world: SandboxWorld, text: str = QUESTION, platform: str = "facebook",
            kind: str = "comment") -> Inquiry:
    """A card in its department's channel with a specialist's draft waiting for approval."""
    inquiry = world.citizen_writes({"platform": platform, "kind": kind, "text": text})
    world.reply_in_thread(specialist_for(inquiry.route), inquiry.id or 0, DRAFT)
    return world.inquiry(inquiry.id or 0)


def events(world: SandboxWorld, action: str) -> list[Event]:
    with world.store.session() as session:
        return list(session.exec(select(Event).where(Event.action == action)).all())
