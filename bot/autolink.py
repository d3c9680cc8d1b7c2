"""Per-channel auto-linking: settings, the once-a-day claim, and which messages qualify.

Off by default. When a channel has it on and a person's message names a known company, the
bot adds one short threaded reply; each company at most once per channel per UTC day. The
limit is a unique constraint on ``autolink_posts``: inserting the row *is* the claim, so two
web replicas (or a redelivered event) can never both reply.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from store import db
from store.answers import EntityRef
from store.models import AutolinkPost, AutolinkSetting, utcnow
from store.textnorm import unescape_slack

AUTOLINK_KINDS = ("company",)

# <@U123>, <#C123|name>, <!here>, <!subteam^S1|@team>: Slack's own tokens, never names.
_SPECIAL = re.compile(r"<[@#!][^>]*>")
# <https://example.com|label> -> label; <https://example.com> -> dropped.
_LINK = re.compile(r"<([^>|]+)(?:\|([^>]*))?>")
# Messages that are not a person writing something new.
_IGNORED_SUBTYPES = {
    "bot_message",
    "message_changed",
    "message_deleted",
    "message_replied",
    "channel_join",
    "channel_leave",
    "channel_topic",
    "channel_purpose",
    "channel_name",
    "channel_archive",
    "channel_unarchive",
    "thread_broadcast",
}


def plain_text(message_text: str) -> str:
    """A Slack message's text as a person reads it: mentions and link targets removed,
    link labels kept, ``&amp;``/``&lt;``/``&gt;`` undone."""
    text = _SPECIAL.sub(" ", message_text or "")
    text = _LINK.sub(lambda m: m.group(2) or " ", text)
    return unescape_slack(text)


def is_enabled(engine: Engine, team_id: str, channel_id: str) -> bool:
    with db.session_scope(engine) as session:
        enabled = session.scalar(
            select(AutolinkSetting.enabled).where(
                AutolinkSetting.team_id == team_id, AutolinkSetting.channel_id == channel_id
            )
        )
    return bool(enabled)


def set_enabled(engine: Engine, team_id: str, channel_id: str, enabled: bool, user_id: str) -> None:
    """Turn auto-linking on or off for one channel of one team (an upsert that also holds
    when two people flip it at once: the loser of the insert race updates instead)."""
    for _attempt in range(2):
        try:
            with db.session_scope(engine) as session:
                row = session.scalar(
                    select(AutolinkSetting).where(
                        AutolinkSetting.team_id == team_id,
                        AutolinkSetting.channel_id == channel_id,
                    )
                )
                if row is None:
                    session.add(
                        AutolinkSetting(
                            team_id=team_id,
                            channel_id=channel_id,
                            enabled=enabled,
                            changed_by=user_id,
                        )
                    )
                else:
                    row.enabled = enabled
                    row.changed_by = user_id
                    row.changed_at = utcnow()
            return
        except IntegrityError:
            continue
    raise RuntimeError("autolink setting could not be saved")  # pragma: no cover


def claim(engine: Engine, team_id: str, channel_id: str, slug: str, day: dt.date) -> bool:
    """True for the first caller to link ``slug`` in this channel on ``day``."""
    try:
        with db.session_scope(engine) as session:
            session.add(
                AutolinkPost(team_id=team_id, channel_id=channel_id, entity_slug=slug, day=day)
            )
    except IntegrityError:
        return False
    return True


def qualifies(event: Mapping[str, Any], bot_user_id: str | None) -> bool:
    """A new message by a person, not by a bot (this one or any other), and not addressed to
    the bot (app_mention answers those)."""
    if event.get("subtype") in _IGNORED_SUBTYPES or event.get("bot_id") or event.get("bot_profile"):
        return False
    user = event.get("user")
    if not user or (bot_user_id and user == bot_user_id):
        return False
    text = event.get("text") or ""
    return not (bot_user_id and f"<@{bot_user_id}>" in text)


def companies_to_link(
    engine: Engine,
    mentions: Sequence[EntityRef],
    *,
    team_id: str,
    channel_id: str,
    today: dt.date,
) -> list[EntityRef]:
    """The companies among ``mentions`` this channel has not had a link for today, each now
    claimed for today."""
    return [
        entity
        for entity in mentions
        if entity.kind in AUTOLINK_KINDS and claim(engine, team_id, channel_id, entity.slug, today)
    ]
