"""``/chain``: parse, answer, and ack with the answer (well inside Slack's 3 seconds, since
the store answers in milliseconds), so no second request is needed."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot import dispatch
from bot.slack_client import make_ack_client

if TYPE_CHECKING:
    from bot.app import Deps

# Any command name: Slack only sends the commands the manifest declares, so a workspace that
# renames /chain (say, to avoid a clash) needs no code change.
ANY_COMMAND = re.compile(r"^/")


def register(app: App, deps: Deps) -> None:
    @app.command(ANY_COMMAND)
    def on_chain(ack: Ack, command: dict[str, Any], client: WebClient) -> None:
        # Bolt's per-request client carries this workspace's token (OAuth or not); calls made
        # before the ack get a copy that never waits out a rate limit.
        ack_client = make_ack_client(client.token, client.base_url)
        request = dispatch.Request.from_command(
            command, deps.store, ack_client, recorder=deps.recorder
        )
        ack(**dispatch.handle(request).ack_payload())


def register_noop(app: App) -> None:
    """The benchmark's baseline: ack at once, no work."""

    @app.command(ANY_COMMAND)
    def on_chain_noop(ack: Ack) -> None:
        ack()
