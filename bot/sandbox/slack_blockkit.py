"""Block Kit validation as Slack does it: the fake answers `invalid_blocks` for what real
Slack would refuse, so a card that passes here does not fail in production.

Limits are those of chat-platforms.md §6 (Slack's block reference and slack-sdk's model
validators). Messages mimic Slack's `[ERROR] ... [json-pointer:/blocks/0/text]` format.
"""

from __future__ import annotations

from typing import Any

BLOCK_TYPES = frozenset({"section", "header", "context", "actions", "divider", "input", "image",
                         "rich_text", "markdown", "file", "video"})
ELEMENT_TYPES = frozenset({"button", "static_select", "external_select", "users_select",
                           "conversations_select", "channels_select", "overflow", "datepicker",
                           "timepicker", "checkboxes", "radio_buttons", "plain_text_input",
                           "multi_static_select", "multi_users_select", "image"})
TEXT_TYPES = frozenset({"plain_text", "mrkdwn"})
MESSAGE_BLOCKS, VIEW_BLOCKS = 50, 100


class _Report:
    """Collects problems with their JSON pointers."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def add(self, where: str, problem: str) -> None:
        self.errors.append(f"[ERROR] {problem} [json-pointer:{where}]")

    def length(self, where: str, value: Any, limit: int) -> None:
        if isinstance(value, str) and len(value) > limit:
            self.add(where, f"must be less than {limit + 1} characters")

    def text(self, where: str, obj: Any, limit: int, *, plain_only: bool = False) -> None:
        if not isinstance(obj, dict) or obj.get("type") not in TEXT_TYPES:
            self.add(where, "must be a text object")
            return
        if plain_only and obj["type"] != "plain_text":
            self.add(where + "/type", "must be plain_text")
        value = obj.get("text")
        if not isinstance(value, str) or not value:
            self.add(where + "/text", "must be more than 0 characters")
        self.length(where + "/text", value, limit)


def _element(report: _Report, where: str, element: Any) -> None:
    if not isinstance(element, dict) or element.get("type") not in ELEMENT_TYPES:
        report.add(where, "unsupported element type")
        return
    report.length(where + "/action_id", element.get("action_id"), 255)
    kind = element["type"]
    if kind == "button":
        report.text(where + "/text", element.get("text"), 75, plain_only=True)
        report.length(where + "/value", element.get("value"), 2000)
        report.length(where + "/url", element.get("url"), 3000)
        if element.get("style") not in (None, "primary", "danger"):
            report.add(where + "/style", "must be primary or danger")
    if "confirm" in element:
        confirm = element["confirm"]
        for key, limit in (("title", 100), ("text", 300), ("confirm", 30), ("deny", 30)):
            report.text(f"{where}/confirm/{key}", confirm.get(key), limit)
    if "placeholder" in element:
        report.text(where + "/placeholder", element["placeholder"], 150, plain_only=True)
    if "options" in element:
        options = element["options"]
        if not isinstance(options, list) or not 1 <= len(options) <= 100:
            report.add(where + "/options", "must hold 1 to 100 options")
            return
        for index, option in enumerate(options):
            report.text(f"{where}/options/{index}/text", option.get("text"), 75)
            report.length(f"{where}/options/{index}/value", option.get("value"), 150)
    if kind == "plain_text_input":
        max_length = element.get("max_length", 3000)
        if not isinstance(max_length, int) or not 1 <= max_length <= 3000:
            report.add(where + "/max_length", "must be between 1 and 3000")
        else:
            report.length(where + "/initial_value", element.get("initial_value"), max_length)


def _elements(report: _Report, where: str, elements: Any, limit: int) -> None:
    if not isinstance(elements, list) or not 1 <= len(elements) <= limit:
        report.add(where, f"must hold 1 to {limit} elements")
        return
    action_ids = [e["action_id"] for e in elements if isinstance(e, dict) and e.get("action_id")]
    if len(action_ids) != len(set(action_ids)):
        report.add(where, "action_id values must be unique within a block")
    for index, element in enumerate(elements):
        _element(report, f"{where}/{index}", element)


def _block(report: _Report, where: str, block: dict[str, Any]) -> None:
    kind = block["type"]
    if kind == "section":
        if "text" not in block and "fields" not in block:
            report.add(where, "must have text or fields")
        if "text" in block:
            report.text(where + "/text", block["text"], 3000)
        fields = block.get("fields", [])
        if len(fields) > 10:
            report.add(where + "/fields", "must hold at most 10 items")
        for index, field in enumerate(fields):
            report.text(f"{where}/fields/{index}", field, 2000)
        if "accessory" in block:
            _element(report, where + "/accessory", block["accessory"])
    elif kind == "header":
        report.text(where + "/text", block.get("text"), 150, plain_only=True)
    elif kind == "context":
        elements = block.get("elements")
        if not isinstance(elements, list) or not 1 <= len(elements) <= 10:
            report.add(where + "/elements", "must hold 1 to 10 elements")
            return
        for index, element in enumerate(elements):
            if element.get("type") != "image":
                report.text(f"{where}/elements/{index}", element, 3000)
    elif kind == "actions":
        _elements(report, where + "/elements", block.get("elements"), 25)
    elif kind == "input":
        report.text(where + "/label", block.get("label"), 2000, plain_only=True)
        if "hint" in block:
            report.text(where + "/hint", block["hint"], 2000, plain_only=True)
        _element(report, where + "/element", block.get("element"))


def block_errors(blocks: Any, *, max_blocks: int = MESSAGE_BLOCKS,
                 text_budget: int | None = None) -> list[str]:
    """Everything Slack would reject in `blocks`; empty when they would be accepted."""
    report = _Report()
    if not isinstance(blocks, list):
        report.add("/blocks", "must be an array")
        return report.errors
    if len(blocks) > max_blocks:
        report.add("/blocks", f"must hold at most {max_blocks} items")
    block_ids = [b.get("block_id") for b in blocks if isinstance(b, dict) and b.get("block_id")]
    if len(block_ids) != len(set(block_ids)):
        report.add("/blocks", "block_id values must be unique")
    for index, block in enumerate(blocks):
        where = f"/blocks/{index}"
        if not isinstance(block, dict) or block.get("type") not in BLOCK_TYPES:
            report.add(where, "unsupported block type")
            continue
        report.length(where + "/block_id", block.get("block_id"), 255)
        _block(report, where, block)
    if text_budget is not None and _text_size(blocks) > text_budget:
        report.add("/blocks", "msg_blocks_too_long")
    return report.errors


def view_errors(view: Any) -> list[str]:
    """Everything Slack would reject in a modal view."""
    report = _Report()
    if not isinstance(view, dict) or view.get("type") != "modal":
        report.add("/view/type", "must be modal")
        return report.errors
    report.text("/view/title", view.get("title"), 24, plain_only=True)
    for key in ("submit", "close"):
        if key in view:
            report.text(f"/view/{key}", view[key], 24, plain_only=True)
    report.length("/view/callback_id", view.get("callback_id"), 255)
    report.length("/view/private_metadata", view.get("private_metadata"), 3000)
    blocks = view.get("blocks")
    has_input = isinstance(blocks, list) and any(
        isinstance(b, dict) and b.get("type") == "input" for b in blocks)
    if has_input and "submit" not in view:
        report.add("/view/submit", "is required when the view has input blocks")
    return report.errors + block_errors(blocks, max_blocks=VIEW_BLOCKS)


def _text_size(node: Any) -> int:
    if isinstance(node, dict):
        own = len(node["text"]) if isinstance(node.get("text"), str) else 0
        return own + sum(_text_size(v) for v in node.values() if not isinstance(v, str))
    if isinstance(node, list):
        return sum(_text_size(item) for item in node)
    return 0
