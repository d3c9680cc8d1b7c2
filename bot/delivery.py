"""Posting weekly digests to Slack exactly once, and surviving Slack's bad days.

One delivery, in order:

1. **Claim.** Insert the ``deliveries`` row (subscription, covered week) with status
   ``claimed`` and ``claimed_by = host:pid``. The table's unique constraint decides: the one
   insert that succeeds owns the week; every other clock (another process, a restarted one, a
   sync racing a cron job) gets an ``IntegrityError`` and does nothing.
2. **Compose** the digest with ``new_since`` = when the channel's previous digest was claimed.
   A subscription that skips empty weeks marks the row ``skipped`` when nothing is new.
3. **Post** the first message with ``chat.postMessage`` (carrying Slack message ``metadata``:
   ``event_type = "chainbot_digest"``, payload ``{subscription_id, week_start}``), **mark the
   row ``sent`` with its ``ts`` at once**, then post the rest as thread replies.

The one window that remains
---------------------------
A crash (or a lost connection) after Slack accepted the first post and before the ``sent``
update commits leaves a row ``claimed`` although the message is in the channel. Nothing can
close that window completely, since Slack and the database do not share a transaction; it is
narrowed three ways:

* the ``sent`` update is the very next statement after the post (thread replies come after it),
  so the window is one small UPDATE long;
* a ``claimed`` row is never re-posted blindly. Only when it is older than ``STALE_AFTER`` (its
  owner surely died: a claim is taken right before composing and posting) does a clock take it
  over, and it first reads the channel's history since the claim (``conversations.history``
  with ``include_all_metadata``) for a message carrying our metadata for that subscription and
  week. Found: the row is marked ``sent`` with that ``ts`` and nothing is posted. Not found:
  the digest is posted (it is late, and says so);
* if the history cannot be read (no ``channels:history``/``groups:history`` scope, a private
  channel, an error), the row is marked ``unknown`` for a human instead of risking a second
  post. ``chainbot clock --status`` lists such rows.

The same check guards a retry after a failure that may have reached Slack anyway (a 5xx, a
timeout, a connection lost mid-answer: stored as ``maybe posted: <error>``). A crash between
the first post and the last thread reply leaves the digest's thread short, never doubled (the
row is already ``sent``; the error column says ``thread incomplete``).

Slack trouble
-------------
* HTTP 429: wait ``Retry-After`` (the whole team's pacer backs off, not just one thread) and
  retry the same message; nothing is lost. After a 429 the team's posts are spaced by an
  adaptive gap so that the waiting threads do not all retry at once (``Pacer``).
* At most one message per second per channel, thread replies included (``Pacer``).
* A refused connection is retried at once (the request never left). A reset one is retried
  for thread replies only: in the rare case Slack had acted on it, a reply shows twice, which
  beats a digest cut short; the top-level post is never re-sent blindly (see above). A
  timeout is never retried at once.
* ``not_in_channel``, ``channel_not_found``, ``is_archived``, ``account_inactive``,
  ``token_revoked`` (and ``invalid_auth``): the subscription is paused with that reason, the
  subscriber is told by DM where the token still works, and the other channels go on.
* Anything else (a 500, a network error, ``msg_blocks_too_long``): the row is ``failed`` with
  the error and is retried by a later sync.

Every delivery logs one structured line (logger ``chainbot.delivery``): team, channel, week,
outcome, latency_ms, late. Tokens never reach a log line or a stored error: errors are reduced
to Slack's error code.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy import Engine

from store import subscriptions as subs
from store.progress import ProgressFn, no_progress

logger = logging.getLogger("chainbot.delivery")

METADATA_EVENT = "chainbot_digest"
PAUSE_ERRORS = frozenset(
    {
        "not_in_channel",
        "channel_not_found",
        "is_archived",
        "account_inactive",
        "token_revoked",
        "invalid_auth",
        # An uninstalled workspace (OAuth mode) has no token left to post with.
        "not_authed",
    }
)
# A claim older than this belongs to a clock that died mid-delivery.
STALE_AFTER = dt.timedelta(minutes=30)
# A digest posted this long after its send time says it is late.
LATE_AFTER = dt.timedelta(minutes=5)
# The stored error of a failure after which the post may have reached Slack anyway.
MAYBE_POSTED = "maybe posted: "
# A failed delivery is retried by a sync at most this often.
RETRY_FAILED_AFTER = dt.timedelta(minutes=5)
# A connection refused or reset before Slack answered is retried at once this many times.
MAX_CONNECTION_RETRIES = 2
# How long one message may wait out 429s before its delivery is left to a later sync.
MAX_RATE_LIMIT_WAIT = 15 * 60.0

ClientFactory = Callable[[str], WebClient]
"""team_id -> a WebClient with that workspace's bot token (see ``delivery_client``)."""


def delivery_client(token: str, base_url: str) -> WebClient:
    """A WebClient for posting digests: no automatic retries of 429s (the ``Pacer`` waits them
    out for the whole team) nor of 5xx answers (a blind re-send could post twice; a failed
    delivery is retried by a later sync, which checks the channel first)."""
    return WebClient(token=token, base_url=base_url, timeout=15, retry_handlers=[])


def default_owner() -> str:
    """Who holds a claim: ``host:pid``."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --------------------------------------------------------------------------- composing


class PostableMessage(Protocol):
    text: str
    blocks: Sequence[Mapping[str, Any]]


@dataclass(frozen=True)
class ComposedDigest:
    messages: list[PostableMessage]
    item_count: int
    # False when nothing happened that week and nothing was added since the channel's last
    # digest (an empty week, or only the "From the archive" edition).
    has_news: bool


@dataclass(frozen=True)
class DigestRequest:
    """What one channel's digest is made of. Two requests are equal (and share a cached
    digest) when everything but ``now`` matches: ``now`` only bounds which ingested articles
    count as new, and within a fan-out that changes nothing that matters."""

    week_start: dt.date
    new_since: dt.datetime | None
    archive_if_empty: bool
    late_note: str | None
    now: dt.datetime = field(compare=False)


Composer = Callable[[Engine, DigestRequest], ComposedDigest]


def compose_with_store(engine: Engine, request: DigestRequest) -> ComposedDigest:
    """The real composer: ``store.digest`` picks the items, ``bot.render.digest`` renders."""
    from bot.render.digest import digest_messages
    from store.digest import compose_digest

    digest = compose_digest(
        engine,
        request.week_start,
        new_since=request.new_since,
        archive_if_empty=request.archive_if_empty,
        now=request.now,
    )
    messages = digest_messages(digest, late_note=request.late_note)
    return ComposedDigest(
        messages=list(messages),
        item_count=digest.item_count,
        has_news=not digest.is_empty and not digest.archive,
    )


class CachedComposer:
    """Reuses a composed digest for equal requests within ``ttl``: in one fan-out most
    channels get the very same digest (same week, same "new since", same lateness), and
    composing it once instead of a thousand times keeps a large fan-out bound by Slack's rate
    limits rather than by the CPU."""

    def __init__(
        self,
        inner: Composer = compose_with_store,
        *,
        ttl: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.inner = inner
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[tuple[Any, ...], tuple[float, ComposedDigest]] = {}
        self._key_locks: dict[tuple[Any, ...], threading.Lock] = {}

    def __call__(self, engine: Engine, request: DigestRequest) -> ComposedDigest:
        key = (engine.url, request)
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:  # one composition per key, the other threads wait for it
            with self._lock:
                hit = self._entries.get(key)
                if hit is not None and self._clock() - hit[0] < self.ttl:
                    return hit[1]
            composed = self.inner(engine, request)
            with self._lock:
                self._prune()
                self._entries[key] = (self._clock(), composed)
            return composed

    def _prune(self) -> None:
        now = self._clock()
        for key in [k for k, (at, _) in self._entries.items() if now - at >= self.ttl]:
            del self._entries[key]
            self._key_locks.pop(key, None)


# --------------------------------------------------------------------------- pacing


class Pacer:
    """Spaces posts the way Slack wants them.

    * Per channel: at most one message per ``interval`` seconds (thread replies included).
    * Per team (workspace): after a 429, nobody posts to that team before ``Retry-After`` has
      passed, and from then on posts to the team leave the building one at a time, ``gap``
      seconds apart. The gap doubles on every 429 and shrinks a little on every success
      (additive increase, multiplicative decrease the other way round), so many threads
      waiting out the same ``Retry-After`` do not all retry at the same instant and trip the
      limit again. Before any 429 there is no gap at all.
    """

    MIN_GAP = 0.02
    MAX_GAP = 1.0
    RELAX = 0.99

    def __init__(
        self,
        interval: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = interval
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_free: dict[tuple[str, str], float] = {}
        self._blocked_until: dict[str, float] = {}
        self._team_next: dict[str, float] = {}
        self._gap: dict[str, float] = {}

    def wait_turn(self, team_id: str, channel_id: str) -> None:
        key = (team_id, channel_id)
        while True:
            with self._lock:
                now = self._clock()
                slot = max(
                    now,
                    self._next_free.get(key, now),
                    self._blocked_until.get(team_id, now),
                    self._team_next.get(team_id, now),
                )
                if slot <= now:
                    self._next_free[key] = now + self.interval
                    self._team_next[team_id] = now + self._gap.get(team_id, 0.0)
                    return
            self._sleep(slot - now)

    def back_off(self, team_id: str, seconds: float) -> None:
        with self._lock:
            now = self._clock()
            blocked = self._blocked_until.get(team_id, 0.0)
            if now >= blocked:
                # A new episode; the other 429s of the same burst do not widen the gap again.
                gap = self._gap.get(team_id, 0.0)
                self._gap[team_id] = min(self.MAX_GAP, max(self.MIN_GAP, gap * 2))
            self._blocked_until[team_id] = max(blocked, now + seconds)

    def succeeded(self, team_id: str) -> None:
        with self._lock:
            gap = self._gap.get(team_id, 0.0) * self.RELAX
            self._gap[team_id] = gap if gap >= self.MIN_GAP else 0.0

    def gap(self, team_id: str) -> float:
        with self._lock:
            return self._gap.get(team_id, 0.0)


# --------------------------------------------------------------------------- outcomes


@dataclass(frozen=True)
class Outcome:
    subscription_id: int
    team_id: str
    channel_id: str
    week_start: dt.date
    # sent | skipped | paused | failed | unknown | not_ours (another clock has it)
    outcome: str
    late: bool = False
    latency_ms: int = 0
    messages: int = 0
    message_ts: str | None = None
    error: str | None = None


@dataclass
class Counters:
    """Totals across deliveries (thread-safe), for the clock's summary and the benchmark."""

    ratelimited: int = 0
    posts: int = 0
    by_outcome: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            if name in ("ratelimited", "posts"):
                setattr(self, name, getattr(self, name) + amount)
            else:
                self.by_outcome[name] = self.by_outcome.get(name, 0) + amount


class _SlackFailure(Exception):
    """A call that failed for good. ``maybe_posted``: Slack may have acted on it anyway (a 5xx
    or a lost connection), so a retry must look before posting again."""

    def __init__(self, code: str, *, maybe_posted: bool = False) -> None:
        super().__init__(code)
        self.code = code
        self.maybe_posted = maybe_posted


def _error_code(exc: Exception) -> str:
    """Slack's error code, or the exception class: never a message that could hold a token."""
    if isinstance(exc, SlackApiError):
        data = exc.response.data if exc.response is not None else None
        if isinstance(data, dict) and data.get("error"):
            return str(data["error"])[:64]
        status = exc.response.status_code if exc.response is not None else "?"
        return f"http_{status}"
    return type(exc).__name__


def _connection_failed(exc: BaseException, *, resets_too: bool) -> bool:
    """A connection refused (the request never left), or, with ``resets_too``, reset or broken
    before Slack answered. Never a timeout: a slow answer may still have been acted on."""
    reason = getattr(exc, "reason", None)
    kinds = ConnectionError if resets_too else ConnectionRefusedError
    return any(isinstance(c, kinds) for c in (exc, reason, exc.__cause__, exc.__context__))


def _retry_after(exc: SlackApiError) -> float:
    headers = exc.response.headers or {}
    for key, value in headers.items():
        if key.lower() == "retry-after":
            try:
                return max(0.0, float(value if isinstance(value, str) else value[0]))
            except (TypeError, ValueError, IndexError):
                break
    return 1.0


# --------------------------------------------------------------------------- delivering


class Deliverer:
    """Delivers digests for any team; safe to call from many threads and processes."""

    def __init__(
        self,
        engine: Engine,
        client_factory: ClientFactory,
        *,
        composer: Composer = compose_with_store,
        pacer: Pacer | None = None,
        now: Callable[[], dt.datetime] = utcnow,
        owner: str | None = None,
        counters: Counters | None = None,
    ) -> None:
        self.engine = engine
        self.client_factory = client_factory
        self.composer = composer
        self.pacer = pacer or Pacer()
        self.now = now
        self.owner = owner or default_owner()
        self.counters = counters or Counters()

    # ------------------------------------------------------------------ one delivery
    def deliver(self, sub: subs.SubscriptionView, send_time: dt.datetime) -> Outcome:
        """Deliver ``sub``'s digest due at ``send_time`` unless another clock has it."""
        started = time.monotonic()
        now = self.now()
        week = subs.digest_week(send_time)
        late = now - send_time > LATE_AFTER
        claim = subs.claim_delivery(
            self.engine,
            sub,
            week,
            scheduled_for=send_time,
            late=late,
            claimed_by=self.owner,
            now=now,
            retry_failed_before=now - RETRY_FAILED_AFTER,
        )
        if claim is None:
            existing = subs.get_delivery(self.engine, sub.id, week)
            if existing is not None and existing.status == "claimed":
                stale = self._recover_stale(sub, existing, send_time, started)
                if stale is not None:
                    return stale
            outcome = Outcome(sub.id, sub.team_id, sub.channel_id, week, "not_ours", late=late)
            logger.debug("digest %s", _log_fields(outcome))
            return outcome
        if claim.retried_error and claim.retried_error.startswith(MAYBE_POSTED):
            return self._verify_then_post(sub, claim.delivery_id, week, send_time, late, started)
        return self._compose_and_post(sub, claim.delivery_id, week, send_time, late, started)

    def _compose_and_post(
        self,
        sub: subs.SubscriptionView,
        delivery_id: int,
        week: dt.date,
        send_time: dt.datetime,
        late: bool,
        started: float,
    ) -> Outcome:
        now = self.now()
        try:
            request = DigestRequest(
                week_start=week,
                new_since=subs.last_sent_at(self.engine, sub.id, before_week=week),
                archive_if_empty=not sub.skip_empty,
                late_note=late_note(send_time, sub.tz) if late else None,
                now=now,
            )
            composed = self.composer(self.engine, request)
        except Exception as exc:
            logger.exception("composing the digest failed (subscription %s)", sub.id)
            return self._finish(sub, delivery_id, week, "failed", late, started, _error_code(exc))
        if sub.skip_empty and not composed.has_news:
            subs.finish_delivery(self.engine, delivery_id, "skipped", now=self.now(), item_count=0)
            return self._log(
                Outcome(sub.id, sub.team_id, sub.channel_id, week, "skipped", late, _ms(started))
            )
        if not composed.messages:
            return self._finish(sub, delivery_id, week, "failed", late, started, "empty_digest")
        client = self.client_factory(sub.team_id)
        metadata = {
            "event_type": METADATA_EVENT,
            "event_payload": {"subscription_id": sub.id, "week_start": week.isoformat()},
        }
        if not subs.still_owner(self.engine, delivery_id, self.owner):
            # A clock that thought we were dead took over; let it post.
            return self._log(Outcome(sub.id, sub.team_id, sub.channel_id, week, "not_ours", late))
        try:
            first = self._post(
                client, sub, composed.messages[0], retry_resets=False, metadata=metadata
            )
        except _SlackFailure as failure:
            return self._slack_failed(
                sub, delivery_id, week, late, started, failure.code, client, failure.maybe_posted
            )
        ts = str(first.get("ts"))
        subs.finish_delivery(
            self.engine,
            delivery_id,
            "sent",
            now=self.now(),
            message_ts=ts,
            item_count=composed.item_count,
        )
        thread_error = None
        for message in composed.messages[1:]:
            try:
                self._post(client, sub, message, retry_resets=True, thread_ts=ts)
            except _SlackFailure as failure:
                # The digest is out; never post it again. Keep why the thread is short.
                thread_error = f"thread incomplete: {failure.code}"
                subs.note_delivery_error(self.engine, delivery_id, thread_error)
                break
        return self._log(
            Outcome(
                sub.id,
                sub.team_id,
                sub.channel_id,
                week,
                "sent",
                late,
                _ms(started),
                messages=len(composed.messages),
                message_ts=ts,
                error=thread_error,
            )
        )

    def _post(
        self,
        client: WebClient,
        sub: subs.SubscriptionView,
        message: PostableMessage,
        *,
        retry_resets: bool,
        **extra: Any,
    ) -> Mapping[str, Any]:
        """One chat.postMessage, paced, with 429s waited out and retried."""
        return self._call_paced(
            sub.team_id,
            sub.channel_id,
            retry_resets=retry_resets,
            call=lambda: client.chat_postMessage(
                channel=sub.channel_id,
                text=message.text,
                blocks=list(message.blocks) or None,
                unfurl_links=False,
                unfurl_media=False,
                **extra,
            ),
        )

    def _call_paced(
        self,
        team_id: str,
        channel_id: str,
        *,
        call: Callable[[], Any],
        retry_resets: bool = False,
    ) -> Mapping[str, Any]:
        """Make one Web API call within the pacer; 429s are waited out and retried, a refused
        connection is retried, and with ``retry_resets`` a reset one too (a thread reply: a
        rare double reply beats a digest cut short; never the top-level post, whose second
        copy would be a duplicate digest)."""
        waited = 0.0
        resets = 0
        while True:
            self.pacer.wait_turn(team_id, channel_id)
            try:
                response = call()
            except SlackApiError as exc:
                if exc.response is not None and exc.response.status_code == 429:
                    self.counters.add("ratelimited")
                    retry_after = _retry_after(exc)
                    waited += retry_after
                    if waited > MAX_RATE_LIMIT_WAIT:
                        # Not lost: the row is "failed" and a later sync retries it.
                        raise _SlackFailure("ratelimited") from None
                    self.pacer.back_off(team_id, retry_after)
                    continue
                status = exc.response.status_code if exc.response is not None else 0
                raise _SlackFailure(_error_code(exc), maybe_posted=status >= 500) from None
            except (SlackClientError, OSError) as exc:
                if _connection_failed(exc, resets_too=retry_resets) and (
                    resets < MAX_CONNECTION_RETRIES
                ):
                    resets += 1
                    self._sleep_briefly(resets)
                    continue
                raise _SlackFailure(_error_code(exc), maybe_posted=True) from None
            self.counters.add("posts")
            self.pacer.succeeded(team_id)
            return response.data if hasattr(response, "data") else response

    def _sleep_briefly(self, attempt: int) -> None:
        time.sleep(0.2 * attempt)

    def _slack_failed(
        self,
        sub: subs.SubscriptionView,
        delivery_id: int,
        week: dt.date,
        late: bool,
        started: float,
        code: str,
        client: WebClient,
        maybe_posted: bool = False,
    ) -> Outcome:
        if code not in PAUSE_ERRORS:
            error = f"{MAYBE_POSTED}{code}" if maybe_posted else code
            return self._finish(sub, delivery_id, week, "failed", late, started, error)
        subs.finish_delivery(self.engine, delivery_id, "failed", now=self.now(), error=code)
        subs.pause(
            self.engine, team_id=sub.team_id, channel_id=sub.channel_id, reason=code, now=self.now()
        )
        self._tell_subscriber(client, sub, code)
        return self._log(
            Outcome(
                sub.id, sub.team_id, sub.channel_id, week, "paused", late, _ms(started), error=code
            )
        )

    def _tell_subscriber(self, client: WebClient, sub: subs.SubscriptionView, code: str) -> None:
        """A DM to whoever subscribed; a revoked token or a deleted user just means no DM."""
        text = (
            f"I paused the weekly Chain Bot digest for <#{sub.channel_id}>: Slack answered "
            f"`{code}` ({PAUSE_HINTS.get(code, 'the channel cannot be posted to')}). "
            f"Fix that, then run `/chain subscribe` in the channel to resume."
        )
        try:
            self._call_paced(
                sub.team_id,
                sub.created_by,
                call=lambda: client.chat_postMessage(channel=sub.created_by, text=text),
            )
        except _SlackFailure as failure:
            logger.info(
                "could not tell %s about the paused digest in %s: %s",
                sub.created_by,
                sub.channel_id,
                failure.code,
            )

    def _finish(
        self,
        sub: subs.SubscriptionView,
        delivery_id: int,
        week: dt.date,
        status: str,
        late: bool,
        started: float,
        error: str,
    ) -> Outcome:
        subs.finish_delivery(self.engine, delivery_id, status, now=self.now(), error=error)
        return self._log(
            Outcome(
                sub.id, sub.team_id, sub.channel_id, week, status, late, _ms(started), error=error
            )
        )

    # ------------------------------------------------------------------ stale claims
    def _recover_stale(
        self,
        sub: subs.SubscriptionView,
        existing: subs.DeliveryView,
        send_time: dt.datetime,
        started: float,
    ) -> Outcome | None:
        """A claim whose owner died: see the module docstring. None when it is not stale or
        another clock took it first."""
        now = self.now()
        if now - existing.claimed_at < STALE_AFTER:
            return None
        if not subs.take_over_stale(self.engine, existing, claimed_by=self.owner, now=now):
            return None
        return self._verify_then_post(
            sub, existing.id, existing.week_start, send_time, True, started
        )

    def _verify_then_post(
        self,
        sub: subs.SubscriptionView,
        delivery_id: int,
        week: dt.date,
        send_time: dt.datetime,
        late: bool,
        started: float,
    ) -> Outcome:
        """Post only after the channel's history shows the digest is not there already; when
        the history cannot be read, leave the row ``unknown`` for a human."""
        client = self.client_factory(sub.team_id)
        try:
            found_ts = self._find_posted(client, sub, week, since=send_time)
        except _SlackFailure as failure:
            error = f"unverifiable: {failure.code}"
            subs.finish_delivery(self.engine, delivery_id, "unknown", now=self.now(), error=error)
            return self._log(
                Outcome(
                    sub.id,
                    sub.team_id,
                    sub.channel_id,
                    week,
                    "unknown",
                    late,
                    _ms(started),
                    error=error,
                )
            )
        if found_ts is not None:
            subs.finish_delivery(
                self.engine,
                delivery_id,
                "sent",
                now=self.now(),
                message_ts=found_ts,
                error="recovered: already posted",
            )
            return self._log(
                Outcome(
                    sub.id,
                    sub.team_id,
                    sub.channel_id,
                    week,
                    "sent",
                    late,
                    _ms(started),
                    message_ts=found_ts,
                    error="recovered: already posted",
                )
            )
        return self._compose_and_post(sub, delivery_id, week, send_time, late, started)

    def _find_posted(
        self, client: WebClient, sub: subs.SubscriptionView, week: dt.date, *, since: dt.datetime
    ) -> str | None:
        """The ts of our digest for ``week`` in the channel since ``since``, if any."""
        cursor: str | None = None
        while True:
            page = self._call_paced(
                sub.team_id,
                f"history:{sub.channel_id}",
                call=lambda c=cursor: client.conversations_history(
                    channel=sub.channel_id,
                    oldest=f"{since.timestamp() - 60:.6f}",
                    include_all_metadata=True,
                    limit=200,
                    cursor=c,
                ),
            )
            for message in page.get("messages") or []:
                meta = message.get("metadata") or {}
                payload = meta.get("event_payload") or {}
                if (
                    meta.get("event_type") == METADATA_EVENT
                    and str(payload.get("subscription_id")) == str(sub.id)
                    and payload.get("week_start") == week.isoformat()
                ):
                    return str(message.get("ts"))
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return None

    # ------------------------------------------------------------------ logging
    def _log(self, outcome: Outcome) -> Outcome:
        self.counters.add(outcome.outcome)
        logger.info("digest %s", _log_fields(outcome))
        return outcome

    # ------------------------------------------------------------------ fan-out
    def deliver_many(
        self,
        due: Sequence[tuple[subs.SubscriptionView, dt.datetime]],
        *,
        workers: int = 8,
        progress: ProgressFn = no_progress,
    ) -> list[Outcome]:
        """Deliver many digests concurrently (the pacer keeps each channel and team within
        Slack's limits); one channel's trouble never stops the others."""
        total = len(due)
        progress("delivering", 0, total)
        if total == 0:
            return []
        done = 0
        lock = threading.Lock()
        outcomes: list[Outcome] = []

        def one(item: tuple[subs.SubscriptionView, dt.datetime]) -> Outcome:
            nonlocal done
            sub, send_time = item
            try:
                result = self.deliver(sub, send_time)
            except Exception as exc:  # a bug or the database: keep going with the others
                logger.exception("delivery crashed (subscription %s)", sub.id)
                result = Outcome(
                    sub.id,
                    sub.team_id,
                    sub.channel_id,
                    subs.digest_week(send_time),
                    "failed",
                    error=_error_code(exc),
                )
            with lock:
                done += 1
                outcomes.append(result)
                progress("delivering", done, total)
            return result

        with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="digest") as pool:
            list(pool.map(one, due))
        return outcomes


PAUSE_HINTS = {
    "not_in_channel": "the bot is not a member of the channel; invite it with /invite",
    "channel_not_found": "the channel no longer exists or the bot cannot see it",
    "is_archived": "the channel is archived",
    "account_inactive": "the bot's account or the workspace is deactivated",
    "token_revoked": "the app's token was revoked; reinstall the app",
    "invalid_auth": "the app's token is not valid; reinstall the app",
}


def late_note(send_time: dt.datetime, tz: str) -> str:
    """What a late digest says about itself."""
    local = send_time.astimezone(ZoneInfo(tz)).strftime("%A %Y-%m-%d %H:%M")
    utc = send_time.astimezone(dt.UTC).strftime("%H:%M UTC")
    return f"This digest is late: it was due {local} {tz} ({utc}), while the bot was down."


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _log_fields(outcome: Outcome) -> str:
    return json.dumps(
        {
            "team": outcome.team_id,
            "channel": outcome.channel_id,
            "subscription": outcome.subscription_id,
            "week": outcome.week_start.isoformat(),
            "outcome": outcome.outcome,
            "latency_ms": outcome.latency_ms,
            "late": outcome.late,
            "messages": outcome.messages,
            "error": outcome.error,
        },
        sort_keys=True,
    )
