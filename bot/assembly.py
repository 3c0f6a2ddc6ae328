"""Builds a running bot from settings and the rules file: the one place collaborators meet.

The CLI (`run`, `poll`, `demo`) and the tests all assemble through here, so the production
wiring is the wiring under test.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.accounts import AccountConfig, accounts_from_config
from bot.chat.base import ChatGateway
from bot.deadline_config import SECTIONS, policy_from_config
from bot.deadlines import DeadlinePolicy
from bot.errors import ConfigError
from bot.models import utcnow
from bot.officers import OfficerGroup, Officers
from bot.platforms import PLATFORMS
from bot.platforms.base import PlatformClient
from bot.retention import RetentionPolicy, retention_from_config
from bot.rules import RuleSet, load_rules
from bot.store import Store
from bot.workflow import ChatSetup, Workflow, WorkflowContext
from bot.workflow.setup import require_approvers, setup_from_config


@dataclass(frozen=True)
class Configuration:
    """Everything the rules file configures, validated together so one run reports one error."""

    rules: RuleSet
    policy: DeadlinePolicy
    setup: ChatSetup
    accounts: list[AccountConfig]
    retention: RetentionPolicy


def load_configuration(path: str) -> Configuration:
    rules = load_rules(path)
    sections = {name: rules.sections[name] for name in SECTIONS if name in rules.sections}
    policy = policy_from_config(
        sections, rules.line_of, rules.file, platforms=tuple(PLATFORMS), routes=rules.route_ids
    )
    chat, line_of = rules.section("chat")
    setup = setup_from_config(chat or {}, line_of, rules.file)
    accounts = accounts_from_config(rules.section("accounts")[0], line_of, rules.file)
    retention = retention_from_config(rules.section("retention")[0], line_of, rules.file)
    require_approvers(setup, line_of, rules.file)
    return Configuration(rules=rules, policy=policy, setup=setup, accounts=accounts, retention=retention)


def resolve_front_end(spec: str) -> Callable[..., Any]:
    """`module:attribute` (the uvicorn convention), so `bot` never imports `handlers` by name."""
    module, _, attribute = spec.partition(":")
    try:
        return getattr(importlib.import_module(module), attribute)  # type: ignore[no-any-return]
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"cannot load the chat front end {spec!r}: {exc}",
                          key="BORGERBOT_FRONT_END", hint="e.g. handlers.app:build_app") from None


def officer_check(setup: ChatSetup, group_members: Callable[[str], frozenset[str]]) -> Officers:
    """Named officers, then the officer group, asked afresh for each decision; its last answer
    is remembered and survives Slack throttling (see `bot.officers`)."""
    group = OfficerGroup(setup.officer_group, group_members) if setup.officer_group else None
    return Officers(frozenset(setup.officers), group)


def build_workflow(
    config: Configuration,
    store: Store,
    chat: ChatGateway,
    clients: Mapping[tuple[str, str], PlatformClient],
    *,
    group_members: Callable[[str], frozenset[str]],
    clock: Callable[[], datetime] = utcnow,
) -> Workflow:
    ctx = WorkflowContext(
        store=store,
        chat=chat,
        clients=clients,
        rules=config.rules,
        policy=config.policy,
        setup=config.setup,
        is_officer=officer_check(config.setup, group_members),
        clock=clock,
        tz=str(config.policy.calendar.timezone),
    )
    return Workflow(ctx)
