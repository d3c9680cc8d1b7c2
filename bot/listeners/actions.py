"""Button clicks (``block_actions``), by the action ids of ``bot.render.actions``.

Where the answer goes depends on where the button was:

* an ephemeral message (a ``/chain`` answer): replaced in place through its ``response_url``;
* a message everyone sees (a shared card, a thread answer): a new ephemeral message for the
  person who clicked, so one click never changes what the channel sees;
* the App Home tab: a modal (``views.open``); inside that modal: the modal is updated.

"Share in channel" replaces the ephemeral card with the same card for everyone
(``response_type: in_channel``); "Share in thread" posts an entity's short card as a reply.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.listeners import explain, send_response, slack_error
from bot.render import actions
from bot.render import blocks as render
from bot.render.blocks import Message
from bot.render.mrkdwn import truncate_plain
from store.errors import StoreError

if TYPE_CHECKING:
    from bot.app import Deps

log = logging.getLogger("chainbot.actions")

LIST_PAGE = 10
MODAL_TITLE = 24
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,30}$")


def _value(body: dict[str, Any]) -> actions.ActionValue:
    return actions.decode(body["actions"][0].get("value", ""))


def _where(body: dict[str, Any]) -> str:
    """ "view" (Home tab or modal), "ephemeral" or "message"."""
    container = body.get("container") or {}
    if container.get("type") == "view":
        return "view"
    return "ephemeral" if container.get("is_ephemeral") else "message"


def _modal(title: str, message: Message) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": truncate_plain(title, MODAL_TITLE) or "Chain Bot"},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": message.blocks,
    }


def show(client: WebClient, body: dict[str, Any], message: Message, *, title: str) -> None:
    """Put ``message`` where the clicked button was (see the module docstring)."""
    where = _where(body)
    if where == "view":
        view = body.get("view") or {}
        modal = _modal(title, message)
        try:
            if view.get("type") == "modal" and view.get("id"):
                client.views_update(view_id=view["id"], view=modal)
            else:
                client.views_open(trigger_id=body["trigger_id"], view=modal)
        except SlackApiError as exc:
            log.warning("could not show a modal: %s", slack_error(exc))
        return
    send_response(body.get("response_url"), message, replace_original=where == "ephemeral")


def _remember(deps: Deps, body: dict[str, Any], slug: str) -> None:
    team = (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id")
    user = (body.get("user") or {}).get("id")
    if team and user:
        deps.recorder.add(team, user, slug)


def _card(deps: Deps, client: WebClient, body: dict[str, Any], value: actions.CardValue) -> None:
    profile = deps.store.profile(value.slug)
    shareable = _where(body) != "view"
    message = render.render_card(profile, page=value.page, view=value.view, shareable=shareable)
    show(client, body, message, title=profile.entity.name)
    if value.page == 0:
        _remember(deps, body, value.slug)


def _shared_by(message: Message, body: dict[str, Any]) -> Message:
    user = (body.get("user") or {}).get("id", "")
    if not _USER_ID.match(user) or len(message.blocks) >= 50:
        return message
    return Message(
        text=message.text, blocks=[*message.blocks, render.context([f"Shared by <@{user}>"])]
    )


def on_share_channel(
    deps: Deps, client: WebClient, body: dict[str, Any], value: actions.ActionValue
) -> None:
    if not isinstance(value, actions.CardValue):
        raise ValueError("share in channel needs a card")
    profile = deps.store.profile(value.slug)
    message = render.render_card(profile, page=value.page, view=value.view, shareable=False)
    sent = send_response(
        body.get("response_url"),
        _shared_by(message, body),
        replace_original=True,
        response_type="in_channel",
    )
    if not sent:
        send_response(body.get("response_url"), explain("response_url_failed"))


def on_share_thread(
    deps: Deps, client: WebClient, body: dict[str, Any], value: actions.ActionValue
) -> None:
    if not isinstance(value, actions.ThreadValue):
        raise ValueError("share in thread needs a thread")
    channel = (body.get("channel") or {}).get("id")
    if channel and channel != value.channel:
        raise ValueError("button for another channel")
    profile = deps.store.profile(value.slug)
    message = render.render_short_card(profile)
    try:
        client.chat_postMessage(
            channel=value.channel, thread_ts=value.thread_ts, **message.payload()
        )
    except SlackApiError as exc:
        error = slack_error(exc)
        log.warning("share in thread failed: %s", error)
        send_response(body.get("response_url"), explain(error))


def on_card(
    deps: Deps, client: WebClient, body: dict[str, Any], value: actions.ActionValue
) -> None:
    if isinstance(value, actions.CardValue):
        _card(deps, client, body, value)
    elif isinstance(value, actions.CompareValue):
        a, b = deps.store.profile(value.a), deps.store.profile(value.b)
        message = render.render_compare(a, b)
        show(client, body, message, title=f"{a.entity.name} vs {b.entity.name}")
    else:
        raise ValueError("not a card button")


def on_list_page(
    deps: Deps, client: WebClient, body: dict[str, Any], value: actions.ActionValue
) -> None:
    if not isinstance(value, actions.ListValue):
        raise ValueError("not a list button")
    entities, total = deps.store.list_entities(value.kind, offset=value.offset, limit=LIST_PAGE)
    message = render.render_list(value.kind, entities, total, offset=value.offset, limit=LIST_PAGE)
    show(client, body, message, title="Chain Bot")


HANDLERS = {
    actions.SHARE_CHANNEL: on_share_channel,
    actions.SHARE_THREAD: on_share_thread,
    actions.PICK: on_card,
    actions.OPEN: on_card,
    actions.MORE: on_card,
    actions.TIMELINE: on_card,
    actions.COMPARE: on_card,
    actions.LIST_PAGE: on_list_page,
}


def handle(deps: Deps, client: WebClient, body: dict[str, Any]) -> None:
    """Run the handler for the clicked button; a bad or stale button gets an explanation."""
    base = actions.base_of(body["actions"][0]["action_id"])
    try:
        HANDLERS[base](deps, client, body, _value(body))
    except (ValueError, StoreError) as exc:
        # Button values come from the network; slugs can vanish in a rebuild.
        log.info("stale or bad %s button: %s", base, exc)
        send_response(
            body.get("response_url"),
            render.render_error("That button is out of date. Try the command again."),
        )


def register(app: App, deps: Deps) -> None:
    for base in HANDLERS:

        @app.action(actions.pattern(base))
        def on_click(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
            ack()
            handle(deps, client, body)
