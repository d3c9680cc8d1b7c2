"""Slack listeners, grouped by kind. Each module has ``register(app, deps)``; handlers stay
thin and call plain functions (``bot.dispatch``, ``bot.autolink``, ``bot.home``, the store
and the renderers).

Shared here: sending to a ``response_url`` with Chain Bot's retry policy, and explaining a
Slack error to the person who caused the attempt.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_bolt import App
from slack_sdk.errors import SlackApiError

from bot.render.blocks import Message, render_error
from bot.slack_client import make_webhook

if TYPE_CHECKING:
    from bot.app import Deps

log = logging.getLogger("chainbot.listeners")

# What a person can do about each Web API error they may cause.
SLACK_ERROR_HELP = {
    "not_in_channel": "I am not a member of that channel. Invite me with `/invite @Chain Bot`.",
    "channel_not_found": "I cannot see that channel (it may be private). Invite me first.",
    "is_archived": "That channel is archived.",
    "ratelimited": "Slack is rate-limiting me right now. Please try again in a minute.",
    "msg_too_long": "That answer was too long for Slack.",
}


def explain(error: str) -> Message:
    detail = SLACK_ERROR_HELP.get(error, "Slack refused the message.")
    return render_error(f"I could not post that: {detail}", detail=f"Slack said: {error}")


def slack_error(exc: SlackApiError) -> str:
    response = exc.response
    if response is None:
        return "error"
    if response.status_code == 429:
        return "ratelimited"
    if response.status_code >= 500:
        return "server_error"
    try:
        return str(response.get("error") or "error")
    except (TypeError, ValueError):
        return "error"


def send_response(
    url: str | None,
    message: Message,
    *,
    replace_original: bool = False,
    response_type: str = "ephemeral",
    delete_original: bool = False,
) -> bool:
    """POST to a ``response_url``; logs and returns False on failure, never raises."""
    if not url:
        return False
    payload: dict[str, Any] = {"response_type": response_type, **message.payload()}
    if replace_original:
        payload["replace_original"] = True
    else:
        payload["replace_original"] = False
    if delete_original:
        payload["delete_original"] = True
    try:
        response = make_webhook(url).send_dict(payload)
    except Exception as exc:  # network trouble: nothing more to tell anyone
        log.warning("response_url failed: %s", type(exc).__name__)
        return False
    if response.status_code != 200:
        log.warning("response_url answered %s: %s", response.status_code, response.body[:200])
        return False
    return True


def register_all(app: App, deps: Deps) -> None:
    # No view listeners: the only views (the Home tab, card modals) have no inputs to submit.
    from bot.listeners import actions, commands, events, shortcuts

    commands.register(app, deps)
    actions.register(app, deps)
    shortcuts.register(app, deps)
    events.register(app, deps)
