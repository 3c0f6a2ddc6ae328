"""The import directions of architecture.md §3.3, enforced by reading the source."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# module prefix -> prefixes it must never import
# handlers may use bot.chat.slack_blocks: the Slack front end renders its own modals.
# bot.scheduler may use bot.leases (not banned below): every job runs under its lease, and
# the lease rows are the only storage the scheduler touches, through that module alone.
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "handlers": ("bot.platforms", "bot.store", "bot.sandbox", "bot.chat.slack"),
    "bot": ("handlers",),
    "bot.workflow": ("bot.chat.slack", "bot.platforms.facebook", "bot.platforms.instagram",
                     "bot.platforms.linkedin", "bot.platforms.x", "bot.sandbox"),
    "bot.polling": ("bot.chat",),
    "bot.reminders": ("bot.chat",),
    "bot.scheduler": ("bot.workflow", "bot.store", "bot.models", "bot.platforms", "bot.chat",
                      "bot.routing", "bot.rules", "bot.deadlines", "bot.cli"),
    "bot.chat": ("bot.workflow", "bot.store", "bot.models"),
    "bot.platforms": ("bot.store", "bot.models", "bot.workflow", "bot.routing", "bot.chat"),
    "bot.rules": ("bot.store", "bot.models", "bot.workflow", "bot.platforms", "bot.chat"),
    "bot.routing": ("bot.store", "bot.models", "bot.workflow", "bot.platforms", "bot.chat"),
    "bot.deadlines": ("bot.store", "bot.models", "bot.workflow", "bot.platforms", "bot.chat"),
    "bot.deadline_config": ("bot.store", "bot.models", "bot.workflow", "bot.platforms", "bot.chat"),
    "bot.danish": ("bot.store", "bot.models", "bot.workflow", "bot.platforms", "bot.chat", "bot.rules"),
    "bot.yaml_lines": ("bot.store", "bot.models", "bot.workflow", "bot.platforms", "bot.chat", "bot.rules"),
    "bot.calendar": ("bot.store", "bot.models", "bot.workflow", "bot.platforms", "bot.chat"),
    "bot.privacy": ("bot.store", "bot.models", "bot.workflow", "bot.platforms", "bot.chat"),
    "bot.models": ("bot.workflow", "bot.platforms", "bot.chat"),
    "bot.store": ("bot.workflow", "bot.platforms", "bot.chat"),
    "bot.errors": ("bot", "handlers"),
    "bot.texts": ("bot", "handlers"),
    "bot.settings": ("bot", "handlers"),
    "bot.sandbox": ("bot", "handlers"),
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


SOURCES = sorted(p for top in ("bot", "handlers") for p in (ROOT / top).rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_module_imports_only_what_its_layer_allows(path: Path) -> None:
    module = _module_name(path)
    if module.startswith("bot.migrations"):
        return
    broken = sorted(
        f"{module} imports {name}"
        for owner, banned in FORBIDDEN.items()
        if _within(module, owner)
        for name in _imports(path)
        for prefix in banned
        if _within(name, prefix) and not _within(name, owner)
    )
    assert broken == []
