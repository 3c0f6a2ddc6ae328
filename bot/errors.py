"""The one error tree of borgerbot.

Callers key their behaviour on the type (retry, pause an account, tell the communication
unit), never on message text. Messages are English, for IT staff; the Danish sentences
users see live in `bot.texts`. No message ever carries a token or citizen text.
"""

from __future__ import annotations


class BorgerbotError(Exception):
    """Root of every error borgerbot raises on purpose."""


class ConfigError(BorgerbotError):
    """A configuration file or setting is wrong; points at the file and line when known."""

    def __init__(
        self,
        problem: str,
        *,
        file: str | None = None,
        line: int | None = None,
        key: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.problem = problem
        self.file = file
        self.line = line
        self.key = key
        self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
        where = ""
        if self.file:
            where = f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
        text = f"{where}{self.problem}"
        if self.hint:
            text += f" ({self.hint})"
        return text


class PlatformError(BorgerbotError):
    """A social platform refused or failed a call."""

    def __init__(self, message: str, *, platform: str = "", account: str = "") -> None:
        self.platform = platform
        self.account = account
        super().__init__(message)


class RateLimited(PlatformError):
    """The platform throttles us; wait `retry_after` seconds before calling again.

    `per_stream` says the limit belongs to one endpoint (X counts each endpoint on its own),
    so only that stream waits; otherwise the whole account does.
    """

    def __init__(
        self,
        message: str,
        *,
        retry_after: float,
        platform: str = "",
        account: str = "",
        per_stream: bool = False,
    ) -> None:
        self.retry_after = retry_after
        self.per_stream = per_stream
        super().__init__(message, platform=platform, account=account)


class UsageCapped(RateLimited):
    """The app's monthly cap or prepaid credits are used up (X `usage-capped`): every call is
    refused until it resets, so the whole account pauses and the unit is told once."""


class PlatformUnavailable(PlatformError):
    """5xx, timeout or a dropped connection: worth retrying with backoff."""


class AuthExpired(PlatformError):
    """The token is expired, revoked or lacks a permission: stop the account, tell people once."""


class ObjectGone(PlatformError):
    """The post, comment or conversation was deleted: record it, never retry."""


class DuplicateRejected(PlatformError):
    """The platform refused a reply as a duplicate of one already sent."""


class ChatError(BorgerbotError):
    """The chat platform (Slack) refused or failed a call."""


class ChatRefused(ChatError):
    """Chat refused this one message for good (too long, invalid blocks): sending it again
    fails the same way until a person acts, while other messages still go through.
    `code` is the platform's error string."""

    code: str = ""
    channel_wide = False


class ChatChannelRefused(ChatRefused):
    """Chat refused a message because of its channel (not found, bot not a member, archived):
    every message to that channel fails until an administrator fixes it; others go on."""

    channel_wide = True


class ChatAuthRefused(ChatError):
    """Chat refused the bot itself (token invalid or revoked, app deactivated): nothing can be
    posted anywhere until an administrator acts, so everything stays queued."""

    code: str = ""


class NotAllowed(BorgerbotError):
    """A person lacks the role for an action (for example approving without being an officer)."""


class InvalidTransition(BorgerbotError):
    """An action does not fit the inquiry's current state (for example approving twice)."""

    def __init__(self, message: str, *, state: str = "") -> None:
        self.state = state
        super().__init__(message)


class DraftChanged(InvalidTransition):
    """The draft an officer approved is no longer the one in play: a specialist edited,
    replaced or deleted it after the officer saw it."""


class MembershipUnknown(BorgerbotError):
    """Slack could not say who is in the communication unit (throttled or down) and nothing
    is known from earlier; the person is asked to try again shortly, not refused."""
