"""Pure Block Kit builders: an `InquiryView` in, a Slack message or modal (plain dicts) out.

Citizen text only ever reaches Slack through `bot.privacy.for_slack` (escaped, CPR-masked,
shortened) inside `verbatim` mrkdwn, and every piece is cut to Block Kit's limits here, so
Slack never answers `invalid_blocks` whatever a citizen typed. Buttons carry the inquiry id
as their value; the listeners in `handlers/` key on the action and callback ids below.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from bot import privacy, texts
from bot.chat.base import InquiryView

Block = dict[str, Any]
Message = dict[str, Any]  # {"text": fallback for notifications, "blocks": [...]}

# Block Kit limits (chat-platforms.md §6), with room to spare where Slack sums text.
MAX_BLOCKS = 50
SECTION_TEXT = 3000
HEADER_TEXT = 150
BUTTON_TEXT = 75
OPTION_TEXT = 75
OPTION_VALUE = 150
MAX_OPTIONS = 100
MODAL_TITLE = 24
FALLBACK_TEXT = 4000
CITIZEN_TEXT = 2400
POST_TEXT = 300
AUTHOR_TEXT = 80
REPLY_MAX = 3000
COMMENT_MAX = 1000
MODAL_CONTEXT = 1500

CARD_ACTIONS = ("draft", "move", "no_reply", "answer", "hide")
APPROVAL_ACTIONS = ("approve", "edit", "reject", "retry", "hide")
PRIMARY = frozenset({"draft", "approve", "retry"})
DANGER = frozenset({"reject"})
CONFIRMED = {"no_reply": texts.confirm_no_reply, "approve": texts.confirm_approve}

DRAFT_CALLBACK, ANSWER_CALLBACK = "draft_modal", "answer_modal"
EDIT_CALLBACK, REJECT_CALLBACK, MOVE_CALLBACK = "edit_modal", "reject_modal", "move_modal"
REPLY_BLOCK, REPLY_INPUT = "reply_block", "reply_input"
COMMENT_BLOCK, COMMENT_INPUT = "comment_block", "comment_input"
REASON_BLOCK, REASON_INPUT = "reason_block", "reason_input"
HIDE_CALLBACK = "hide_modal"
HIDE_REASON_BLOCK, HIDE_REASON_INPUT = "hide_reason_block", "hide_reason_input"

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")


def plain(text: str, limit: int = SECTION_TEXT) -> dict[str, Any]:
    return {"type": "plain_text", "text": text[:limit] or " ", "emoji": True}


def mrkdwn(text: str, limit: int = SECTION_TEXT) -> dict[str, Any]:
    """`verbatim` keeps Slack from turning bare URLs and #names into links on its own."""
    return {"type": "mrkdwn", "text": privacy.shorten(text, limit, "…") or " ", "verbatim": True}


def section(text: str) -> Block:
    return {"type": "section", "text": mrkdwn(text)}


def context(*lines: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(line) for line in lines if line][:10]}


def mention(user: str | None) -> str:
    """`<@U123>` for a Slack user id, anything else shown as escaped text."""
    if user and _USER_ID.match(user):
        return f"<@{user}>"
    return privacy.slack_escape(privacy.strip_invisible(user or ""))


def citizen(text: str | None, limit: int, permalink: str | None = None) -> str:
    """Citizen text for mrkdwn; when cut, the marker links to the full text on the platform."""
    marker = texts.shortened_marker()
    if permalink:
        marker += " " + privacy.slack_link(permalink, texts.read_everything())
    return privacy.for_slack(text or "", limit, marker)


def trusted(text: str) -> str:
    """Our own mrkdwn (statuses, route names from config): may carry mentions, still masked."""
    return privacy.mask_cpr(privacy.strip_invisible(text))


def _inquiry_blocks(view: InquiryView) -> list[Block]:
    blocks = [_quoted_inquiry(view, CITIZEN_TEXT)]
    where = [texts.under_post(citizen(view.post_text, POST_TEXT))] if view.post_text else []
    if view.permalink:
        where.append(privacy.slack_link(view.permalink, texts.link_to_original()))
    if where:
        blocks.append(context(*where))
    reasons = [citizen(reason, 200) for reason in view.reasons]
    facts = [texts.deadline_line(view.deadline_at, view.now),
             texts.routed_because(privacy.slack_escape(view.route_name), reasons)]
    if view.urgent:
        plan = privacy.slack_link(view.crisis_plan_url, texts.crisis_plan_label()) if view.crisis_plan_url else None
        facts.append(texts.urgent_notice(plan, view.on_call))
    if view.no_reply_needed:
        facts.append(texts.maybe_no_reply())
    blocks.append(section("\n".join(facts)))
    return blocks


def _state_blocks(view: InquiryView) -> list[Block]:
    blocks: list[Block] = []
    if view.draft_text:
        blocks.append(section(f"{texts.draft_by(mention(view.draft_author))}\n"
                              f"{citizen(view.draft_text, CITIZEN_TEXT)}"))
    lines = [trusted(line) for line in view.status_lines]
    if view.reply_permalink:
        lines.append(privacy.slack_link(view.reply_permalink, texts.see_reply()))
    if lines:
        blocks.append(context("\n".join(lines)))
    return blocks


def _button(action: str, inquiry_id: int, draft_id: int | None = None) -> Block:
    """`draft_id` goes into the approve button (`<inquiry>:<draft>`), so a click approves the
    draft the officer saw and not one that replaced it in between."""
    value = f"{inquiry_id}:{draft_id}" if action == "approve" and draft_id else str(inquiry_id)
    element: Block = {"type": "button", "action_id": action, "value": value,
                      "text": plain(texts.button(action), BUTTON_TEXT)}
    if action in PRIMARY:
        element["style"] = "primary"
    elif action in DANGER:
        element["style"] = "danger"
    if action in CONFIRMED:
        title, text, yes, no = CONFIRMED[action]()
        element["confirm"] = {"title": plain(title, 100), "text": plain(text, 300),
                              "confirm": plain(yes, 30), "deny": plain(no, 30)}
    return element


def _move_select(view: InquiryView) -> Block | None:
    options = [{"text": plain(name, OPTION_TEXT), "value": route_id[:OPTION_VALUE]}
               for route_id, name in view.route_choices if route_id != view.route_id]
    if not options:
        return None
    return {"type": "static_select", "action_id": "move", "options": options[:MAX_OPTIONS],
            "placeholder": plain(texts.move_placeholder(), OPTION_TEXT)}


def _actions(view: InquiryView, allowed: Sequence[str]) -> list[Block]:
    elements: list[Block] = []
    for action in (a for a in view.actions if a in allowed):
        element = _move_select(view) if action == "move" else _button(action, view.inquiry_id, view.draft_id)
        if element:
            elements.append(element)
    if not elements:
        return []
    return [{"type": "actions", "block_id": f"inquiry:{view.inquiry_id}", "elements": elements}]


def _message(view: InquiryView, header: str, allowed: Sequence[str], fallback: str) -> Message:
    blocks = [{"type": "header", "text": plain(header, HEADER_TEXT)}, *_inquiry_blocks(view),
              *_state_blocks(view), *_actions(view, allowed)]
    return {"text": privacy.shorten(trusted(fallback), FALLBACK_TEXT, "…"),
            "blocks": blocks[:MAX_BLOCKS]}


def inquiry_card(view: InquiryView) -> Message:
    """The department's message: the inquiry, its deadline and why it came here, plus buttons."""
    kind = texts.kind_label(view.platform, view.kind)
    fallback = texts.card_fallback(kind, citizen(view.author_name, AUTHOR_TEXT),
                                   privacy.slack_escape(view.route_name))
    header = texts.card_header(view.platform, view.kind, view.urgent)
    return _message(view, header, CARD_ACTIONS, fallback)


def approval_request(view: InquiryView) -> Message:
    """The communication unit's message: the inquiry with the draft and the approval buttons."""
    kind = texts.kind_label(view.platform, view.kind)
    fallback = texts.approval_fallback(kind, citizen(view.author_name, AUTHOR_TEXT))
    header = texts.approval_header(view.platform, view.kind)
    return _message(view, header, APPROVAL_ACTIONS, fallback)


def _modal(callback_id: str, metadata: str, labels: tuple[str, str], blocks: list[Block]) -> Block:
    title, submit = labels
    return {"type": "modal", "callback_id": callback_id, "private_metadata": metadata,
            "title": plain(title, MODAL_TITLE), "submit": plain(submit, MODAL_TITLE),
            "close": plain(texts.MODAL_CLOSE, MODAL_TITLE), "blocks": blocks}


def _text_input(block_id: str, action_id: str, label: str, hint: str, *,
                initial: str = "", max_length: int = REPLY_MAX, optional: bool = False) -> Block:
    element: Block = {"type": "plain_text_input", "action_id": action_id, "multiline": True,
                      "max_length": max_length}
    if initial:
        element["initial_value"] = privacy.for_input(initial, max_length)
    return {"type": "input", "block_id": block_id, "label": plain(label, 2000),
            "hint": plain(hint, 2000), "element": element, "optional": optional}


def _quoted_inquiry(view: InquiryView, limit: int = MODAL_CONTEXT) -> Block:
    """Who wrote what; modals show less of it than cards, to leave room for typing."""
    author = texts.author_wrote(citizen(view.author_name, AUTHOR_TEXT))
    return section(f"{author}\n{citizen(view.text, limit, view.permalink)}")


def draft_modal(view: InquiryView, *, greeting: str, sign_off: str, direct: bool = False) -> Block:
    """The draft form, pre-filled with greeting and sign-off (and, when urgent, the emergency
    numbers); `direct` is the communication unit answering itself, so submitting also approves."""
    body = f"\n\n{texts.urgent_reply_template()}\n\n" if view.urgent else "\n\n\n\n"
    reply = _text_input(REPLY_BLOCK, REPLY_INPUT, texts.reply_label(), texts.reply_hint(),
                        initial=f"{greeting}{body}{sign_off}")
    if direct:
        return _modal(ANSWER_CALLBACK, str(view.inquiry_id), texts.EDIT_MODAL,
                      [_quoted_inquiry(view), reply])
    return _modal(DRAFT_CALLBACK, str(view.inquiry_id), texts.DRAFT_MODAL,
                  [_quoted_inquiry(view), reply])


def edit_modal(view: InquiryView) -> Block:
    """The officer's edit-then-approve form, holding the current draft."""
    reply = _text_input(REPLY_BLOCK, REPLY_INPUT, texts.reply_label(), texts.reply_hint(),
                        initial=view.draft_text or "")
    return _modal(EDIT_CALLBACK, str(view.inquiry_id), texts.EDIT_MODAL,
                  [_quoted_inquiry(view), reply])


def reject_modal(view: InquiryView) -> Block:
    comment = _text_input(COMMENT_BLOCK, COMMENT_INPUT, texts.reject_label(), texts.reject_hint(),
                          max_length=COMMENT_MAX)
    return _modal(REJECT_CALLBACK, str(view.inquiry_id), texts.REJECT_MODAL,
                  [_quoted_inquiry(view), comment])


def hide_modal(view: InquiryView) -> Block:
    """Hiding needs a reason from the debate rules and a note: it is a decision about a citizen."""
    options = [{"text": plain(label, OPTION_TEXT), "value": code}
               for code, label in texts.HIDE_REASONS.items()]
    reason = {"type": "input", "block_id": HIDE_REASON_BLOCK, "label": plain(texts.hide_reason_label(), 2000),
              "element": {"type": "static_select", "action_id": HIDE_REASON_INPUT, "options": options}}
    note = _text_input(COMMENT_BLOCK, COMMENT_INPUT, texts.hide_note_label(), texts.hide_note_hint(),
                       max_length=COMMENT_MAX)
    return _modal(HIDE_CALLBACK, str(view.inquiry_id), texts.HIDE_MODAL, [_quoted_inquiry(view), reason, note])


def move_modal(view: InquiryView, route_id: str) -> Block:
    """Confirms a move picked in the card's menu; metadata is `<inquiry id>:<route id>`."""
    names = dict(view.route_choices)
    question = section(texts.move_text(privacy.slack_escape(names.get(route_id, route_id))))
    reason = _text_input(REASON_BLOCK, REASON_INPUT, texts.move_reason_label(),
                         texts.move_reason_hint(), max_length=COMMENT_MAX, optional=True)
    return _modal(MOVE_CALLBACK, f"{view.inquiry_id}:{route_id}", texts.MOVE_MODAL,
                  [question, _quoted_inquiry(view), reason])


def _overview_line(view: InquiryView) -> str:
    kind = texts.kind_label(view.platform, view.kind)
    link = privacy.slack_link(view.permalink, kind)
    urgent = "🚨 " if view.urgent else ""
    author = citizen(view.author_name, AUTHOR_TEXT)
    return f"• {urgent}{link} fra {author} – {texts.deadline_line(view.deadline_at, view.now)}"


def _grouped(views: Iterable[InquiryView], everyone: bool) -> dict[str, list[InquiryView]]:
    groups: dict[str, list[InquiryView]] = {}
    for view in sorted(views, key=lambda v: (v.deadline_at is None, v.deadline_at or v.now)):
        groups.setdefault(view.route_name if everyone else "", []).append(view)
    return groups


def _overview_section(heading: str, views: list[InquiryView]) -> Block:
    lines = [f"*{privacy.slack_escape(heading)}*"] if heading else []
    for shown, view in enumerate(views):
        line = _overview_line(view)
        more = texts.overview_more(len(views) - shown)
        if sum(len(x) + 1 for x in lines) + len(line) + len(more) + 2 > SECTION_TEXT:
            lines.append(more)
            break
        lines.append(line)
    return section("\n".join(lines))


def overview(views: Sequence[InquiryView], *, everyone: bool) -> Message:
    """The /borgerbot answer: open inquiries soonest deadline first, by department for the
    communication unit; at most one section per department, so it stays within 50 blocks."""
    title = texts.overview_title(everyone)
    blocks: list[Block] = [{"type": "header", "text": plain(title, HEADER_TEXT)}]
    if not views:
        blocks.append(section(texts.overview_empty()))
    groups = list(_grouped(views, everyone).items())
    blocks += [_overview_section(name, group) for name, group in groups[: MAX_BLOCKS - 2]]
    if len(groups) > MAX_BLOCKS - 2:
        hidden = sum(len(group) for _, group in groups[MAX_BLOCKS - 2:])
        blocks.append(section(texts.overview_more(hidden)))
    return {"text": title, "blocks": blocks}
