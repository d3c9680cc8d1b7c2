"""The weekly digest's ``/chain`` subcommands, registered on ``bot.dispatch``:

* ``/chain subscribe [weekday] [HH:MM] [time zone] [always]``: this channel gets the digest
  (anyone in the channel may; the record keeps who and when). Defaults: Monday 09:00 in the
  caller's own Slack time zone (``users.info``), else UTC. Weeks with nothing new are skipped
  unless ``always`` (or ``--no-skip``) is given. Subscribing again changes the schedule and
  resumes a paused subscription.
* ``/chain unsubscribe``: stop this channel's digest.
* ``/chain subscriptions``: this channel's subscription, its next send time and recent digests.
* ``/chain digest [YYYY-MM-DD]``: a private preview of the digest for the week holding that day
  (default: this week), exactly as the clock would post it.

Every answer is ephemeral, escaped, and carries a plain-text fallback. Everything is keyed by
the request's team: a workspace only ever sees or changes its own subscriptions.
"""

from __future__ import annotations

import datetime as dt
import logging

from slack_sdk.errors import SlackApiError, SlackClientError

from bot import dispatch
from bot.render import limits
from bot.render.blocks import Message, context, section
from bot.render.mrkdwn import escape
from bot.render.text import usage_line
from store import subscriptions as subs

log = logging.getLogger("chainbot.digest_commands")

RECENT_DELIVERIES = 3
SKIP_NOTE = "Weeks with nothing new are skipped (add `always` to post them anyway)."
ALWAYS_NOTE = "It posts every week; a week with nothing new gets a “From the archive” edition."


def _reply(lines: list[str], *, note: str | None = None) -> dispatch.Reply:
    """An ephemeral answer: ``lines`` are escaped mrkdwn; the fallback drops the markup."""
    body = "\n".join(lines)
    blocks = [section(body)]
    if note:
        blocks.append(context([note]))
    fallback = body.replace("*", "").replace("`", "")
    return dispatch.Reply(Message(text=fallback, blocks=blocks))


def _error(message: str) -> dispatch.Reply:
    return _reply([f":warning: {escape(message)}"])


def _when(moment: dt.datetime) -> str:
    """``Tuesday 2026-11-24 08:30 Asia/Shanghai (00:30 UTC)``."""
    zone = getattr(moment.tzinfo, "key", None) or moment.tzname() or "UTC"
    utc = moment.astimezone(dt.UTC)
    day = "" if utc.date() == moment.date() else f"{utc:%a} "
    return f"{moment:%A %Y-%m-%d %H:%M} {zone} ({day}{utc:%H:%M} UTC)"


def _user_tz(request: dispatch.Request) -> str | None:
    """The caller's Slack time zone, or None when Slack cannot say."""
    try:
        response = request.client.users_info(user=request.user_id)
    except (SlackApiError, SlackClientError, OSError) as exc:
        log.info("users.info failed for the subscribe default zone: %s", type(exc).__name__)
        return None
    user = response.get("user") or {}
    tz = user.get("tz")
    return str(tz) if tz else None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --------------------------------------------------------------------------- handlers


def subscribe(request: dispatch.Request) -> dispatch.Reply:
    try:
        spec = subs.parse_schedule(request.text)
    except subs.ScheduleError as exc:
        return _error(f"{str(exc).rstrip('.')}. Usage: {usage_line('subscribe')}")
    user_tz = _user_tz(request) if spec.tz is None else None
    resolved = subs.resolve_spec(spec, user_tz)
    now = _now()
    sub, created = subs.subscribe(
        request.store.engine,
        team_id=request.team_id,
        channel_id=request.channel_id,
        user_id=request.user_id,
        spec=resolved,
        now=now,
    )
    verb = "Subscribed" if created else "Updated"
    if spec.tz is not None:
        zone_note = ""
    elif user_tz and subs.canonical_tz(user_tz) is not None:
        zone_note = " (your Slack time zone)"
    else:
        zone_note = " (UTC: your Slack time zone was not available)"
    lines = [
        f"*{verb}:* this channel gets the weekly Chain Bot digest every "
        f"*{escape(sub.schedule_text)}*{zone_note}.",
        f"Next digest: *{escape(_when(subs.next_send_time(sub, now)))}*.",
    ]
    return _reply(lines, note=SKIP_NOTE if sub.skip_empty else ALWAYS_NOTE)


def unsubscribe(request: dispatch.Request) -> dispatch.Reply:
    if request.text:
        return _error("`/chain unsubscribe` takes nothing after it.")
    removed = subs.unsubscribe(
        request.store.engine, team_id=request.team_id, channel_id=request.channel_id
    )
    if not removed:
        return _reply(["This channel has no weekly digest. `/chain subscribe` starts one."])
    return _reply(["*Unsubscribed:* this channel no longer gets the weekly digest."])


def subscriptions(request: dispatch.Request) -> dispatch.Reply:
    engine = request.store.engine
    sub = subs.get_for_channel(engine, team_id=request.team_id, channel_id=request.channel_id)
    if sub is None:
        return _reply(["This channel has no weekly digest. `/chain subscribe` starts one."])
    lines = [f"*Weekly digest:* every *{escape(sub.schedule_text)}*"]
    if sub.status == "paused":
        reason = escape(sub.paused_reason or "unknown")
        lines.append(f"*Paused* (Slack said `{reason}`). `/chain subscribe` resumes it.")
    else:
        lines.append(f"Next digest: *{escape(_when(subs.next_send_time(sub, _now())))}*.")
    lines.append(
        f"Subscribed by user `{escape(sub.created_by)}` on {sub.created_at:%Y-%m-%d %H:%M} UTC."
    )
    recent = [
        d
        for d in subs.deliveries_for_team(engine, team_id=request.team_id)
        if d.subscription_id == sub.id
    ][:RECENT_DELIVERIES]
    for d in recent:
        late = ", late" if d.late else ""
        lines.append(f"• week of {d.week_start}: {escape(d.status)}{late}")
    return _reply(lines, note=SKIP_NOTE if sub.skip_empty else ALWAYS_NOTE)


def digest(request: dispatch.Request) -> dispatch.Reply:
    from bot.render.digest import digest_messages
    from store.digest import compose_digest, parse_week, week_of

    text = request.text.strip()
    note = None
    if text:
        try:  # the same date rules and messages as `chainbot digest --week`
            week, note = parse_week(text)
        except ValueError as exc:
            return _error(str(exc))
    else:
        week = week_of(_now().date())
    composed = compose_digest(request.store.engine, week, now=_now())
    messages = digest_messages(composed)
    first = messages[0]
    extra = [f"Preview, only you can see it: the week of Monday {week:%Y-%m-%d}."]
    if note:
        extra.append(escape(note))
    if len(messages) > 1:
        extra.append(f"Part 1 of {len(messages)}: the rest would follow in the thread.")
    blocks = [*first.blocks[: limits.MAX_BLOCKS - 1], context(extra)]
    return dispatch.Reply(Message(text=first.text, blocks=blocks))


dispatch.register("subscribe", subscribe)
dispatch.register("unsubscribe", unsubscribe)
dispatch.register("subscriptions", subscriptions)
dispatch.register("digest", digest)
