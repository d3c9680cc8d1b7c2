"""The App Home tab: how to use the bot, the store's counts, the workspace's digest
subscriptions and the caller's recently asked entities. Pure rendering: the data is gathered
by ``bot.home``."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.render import actions, layout
from bot.render.blocks import Block, actions_block, button, context, header, section
from bot.render.mrkdwn import escape
from bot.render.text import USAGE_LINES
from store.answers import EntityRef

_WEEKDAYS = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")
_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,30}$")
RECENT_BUTTONS = 10
SUBSCRIPTIONS_SHOWN = 20


@dataclass(frozen=True)
class HomeSubscription:
    """What the Home tab shows of one subscription."""

    channel_id: str
    weekday: int
    hour: int
    minute: int
    tz: str
    status: str
    paused_reason: str | None = None


@dataclass(frozen=True)
class HomeData:
    documents: int
    facts: int
    entities_by_kind: dict[str, int]
    recent: Sequence[EntityRef]
    # None: the digest is not installed; a list (maybe empty): the team's subscriptions.
    subscriptions: Sequence[HomeSubscription] | None


def _channel(channel_id: str) -> str:
    return f"<#{channel_id}>" if _CHANNEL_ID.match(channel_id) else escape(channel_id)


def _subscription_line(sub: HomeSubscription) -> str:
    when = f"{_WEEKDAYS[sub.weekday % 7]} {sub.hour:02d}:{sub.minute:02d} {escape(sub.tz)}"
    line = f"• {_channel(sub.channel_id)}: {when}"
    if sub.status != "active":
        reason = f" ({escape(sub.paused_reason)})" if sub.paused_reason else ""
        line += f" — _{escape(sub.status)}{reason}_"
    return line


def render_home(data: HomeData) -> dict[str, Any]:
    """A ``home`` view for views.publish."""
    blocks: list[Block] = [
        header("Chain Bot"),
        section(
            "China's blockchain industry from five news articles: every fact with its source "
            "(the article and the sentence it comes from)."
        ),
        section(
            "*How to use it*\n"
            + "\n".join(f"`{escape(cmd)}` {escape(what)}" for cmd, what in USAGE_LINES)
        ),
        context(
            [
                "Mention *@Chain Bot* in a thread, or use the message shortcut "
                "*Look up in Chain Bot* on any message."
            ]
        ),
        {"type": "divider"},
    ]
    kinds = ", ".join(
        f"{count} {escape(layout.plural(kind) if count != 1 else kind)}"
        for kind, count in sorted(data.entities_by_kind.items())
        if count
    )
    blocks.append(
        section(
            f"*In the store*\n{data.documents} articles, {data.facts} facts"
            + (f"\n{kinds}" if kinds else "")
        )
    )
    if data.subscriptions is not None:
        if data.subscriptions:
            shown = data.subscriptions[:SUBSCRIPTIONS_SHOWN]
            lines = [_subscription_line(s) for s in shown]
            if len(data.subscriptions) > len(shown):
                lines.append(f"…and {len(data.subscriptions) - len(shown)} more")
            text = "*Weekly digests in this workspace*\n" + "\n".join(lines)
        else:
            text = "*Weekly digests in this workspace*\nNone yet: `/chain subscribe` in a channel."
        blocks.append(section(text))
    if data.recent:
        blocks.append(section("*You recently asked about*"))
        ids = iter(range(1, RECENT_BUTTONS + 1))
        blocks.append(
            actions_block(
                [
                    button(
                        entity.name,
                        actions.action_id(actions.OPEN, next(ids)),
                        actions.CardValue(entity.slug),
                    )
                    for entity in data.recent[:RECENT_BUTTONS]
                ]
            )
        )
    return {"type": "home", "blocks": blocks}
