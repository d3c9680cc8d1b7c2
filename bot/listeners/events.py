"""Events API: mentions, channel messages (autolink) and the App Home tab.

Redeliveries (``X-Slack-Retry-Num``) never reach these handlers twice: the app's middleware
claims each ``event_id`` in ``event_receipts`` first (``bot.app.claim_event``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import autolink, home
from bot.listeners import SLACK_ERROR_HELP, slack_error
from bot.render import blocks as render
from bot.render.blocks import Message

if TYPE_CHECKING:
    from bot.app import Deps

log = logging.getLogger("chainbot.events")


def _post_in_thread(client: WebClient, event: dict[str, Any], message: Message) -> None:
    """Reply in the message's thread; if Slack refuses, tell the author quietly if it can."""
    channel = event["channel"]
    try:
        client.chat_postMessage(
            channel=channel, thread_ts=event.get("thread_ts") or event["ts"], **message.payload()
        )
    except SlackApiError as exc:
        error = slack_error(exc)
        log.warning("reply in %s failed: %s", channel, error)
        user = event.get("user")
        if not user:
            return
        note = SLACK_ERROR_HELP.get(error, "Slack refused my reply.")
        # If even that fails the channel is out of reach; the log line above is all we can do.
        with contextlib.suppress(SlackApiError):
            client.chat_postEphemeral(channel=channel, user=user, text=note)


def answer_mention(deps: Deps, event: dict[str, Any]) -> Message:
    """Every known entity the message names (companies first) as short cards; with none, the
    text read as one lookup (a did-you-mean helps with a typo)."""
    text = autolink.plain_text(event.get("text") or "")
    entities = deps.store.mentions(text)
    if entities:
        return render.render_mentions([deps.store.profile(e.slug) for e in entities])
    if text.strip():
        answer = deps.store.answer(text.strip())
        if answer.status in ("found", "ambiguous"):
            return render.render_answer(answer, shareable=False)
    return render.render_mentions([])


def on_mention(deps: Deps, client: WebClient, event: dict[str, Any]) -> None:
    _post_in_thread(client, event, answer_mention(deps, event))


def on_message(
    deps: Deps,
    client: WebClient,
    event: dict[str, Any],
    team_id: str,
    bot_user_id: str | None,
) -> None:
    """Autolink: one short threaded reply naming the companies not linked today."""
    channel = event.get("channel")
    if not channel or not autolink.qualifies(event, bot_user_id):
        return
    engine = deps.store.engine
    if not autolink.is_enabled(engine, team_id, channel):
        return
    mentions = deps.store.mentions(autolink.plain_text(event.get("text") or ""))
    today = dt.datetime.now(dt.UTC).date()
    linked = autolink.companies_to_link(
        engine, mentions, team_id=team_id, channel_id=channel, today=today
    )
    if not linked:
        return
    profiles = [deps.store.profile(e.slug) for e in linked]
    if len(profiles) == 1:
        message = render.render_short_card(profiles[0])
    else:
        message = render.render_mentions(profiles, heading=False)
    _post_in_thread(client, event, message)


def on_home_opened(deps: Deps, client: WebClient, event: dict[str, Any], team_id: str) -> None:
    if event.get("tab", "home") != "home":
        return
    user = event["user"]
    try:
        client.views_publish(user_id=user, view=home.home_view(deps.store, team_id, user))
    except SlackApiError as exc:
        log.warning("views.publish failed: %s", slack_error(exc))


def _team(body: dict[str, Any], context: BoltContext) -> str:
    return str(context.team_id or body.get("team_id") or "")


def register(app: App, deps: Deps) -> None:
    @app.event("app_mention")
    def app_mention(event: dict[str, Any], client: WebClient) -> None:
        on_mention(deps, client, event)

    @app.event("message")
    def message(
        event: dict[str, Any], body: dict[str, Any], context: BoltContext, client: WebClient
    ) -> None:
        on_message(deps, client, event, _team(body, context), context.bot_user_id)

    @app.event("app_home_opened")
    def app_home_opened(
        event: dict[str, Any], body: dict[str, Any], context: BoltContext, client: WebClient
    ) -> None:
        on_home_opened(deps, client, event, _team(body, context))
