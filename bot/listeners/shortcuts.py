"""The message shortcut "Look up in Chain Bot": an ephemeral list of the entities named in
that message, each as a short card with a "Share in thread" button."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import autolink
from bot.listeners import send_response, slack_error
from bot.render import blocks as render

if TYPE_CHECKING:
    from bot.app import Deps

log = logging.getLogger("chainbot.shortcuts")

CALLBACK_ID = "lookup_message"


def lookup_message(deps: Deps, client: WebClient, body: dict[str, Any]) -> None:
    message = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id")
    user = (body.get("user") or {}).get("id")
    thread_ts = message.get("thread_ts") or message.get("ts")
    entities = deps.store.mentions(autolink.plain_text(message.get("text") or ""))
    profiles = [deps.store.profile(e.slug) for e in entities]
    reply = render.render_mentions(profiles, channel=channel, thread_ts=thread_ts)
    if send_response(body.get("response_url"), reply):
        return
    if channel and user:  # no response_url (or it failed): the Web API can still reach them
        try:
            client.chat_postEphemeral(channel=channel, user=user, **reply.payload())
        except SlackApiError as exc:
            log.warning("lookup shortcut could not answer: %s", slack_error(exc))


def register(app: App, deps: Deps) -> None:
    @app.shortcut(CALLBACK_ID)
    def on_lookup(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        lookup_message(deps, client, body)
