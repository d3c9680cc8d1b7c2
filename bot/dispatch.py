"""The ``/chain`` grammar: a subcommand registry and the built-in subcommands.

``/chain <first word> <rest>``: when the first word (any letter case) names a registered
subcommand, its handler gets the rest; otherwise the whole text is a lookup. Built in:
``help`` (and an empty ``/chain``), ``list <kind>``, ``timeline <name>``,
``compare <a> vs <b>`` and ``autolink on|off``. Other features add theirs without touching
this module::

    from bot import dispatch

    def subscribe(request: dispatch.Request) -> dispatch.Reply: ...

    dispatch.register("subscribe", subscribe)  # usage: the line /chain help shows for it

A handler returns a ``Reply`` (a rendered ``Message`` and where it goes); it runs before the
ack, so it must be quick (the store answers in milliseconds).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from slack_sdk import WebClient

from bot import autolink, grammar, home
from bot.cache import CachedStore
from bot.render import blocks as render
from bot.render.blocks import Message
from bot.render.mrkdwn import escape
from bot.render.text import usage_line
from store import Store
from store.answers import EntityRef
from store.profile import normalise_kind
from store.textnorm import unescape_slack

log = logging.getLogger("chainbot.dispatch")

ResponseType = Literal["ephemeral", "in_channel"]

LIST_PAGE = 10


@dataclass(frozen=True)
class Request:
    """One ``/chain`` invocation: who, where, and the text after the subcommand."""

    store: Store | CachedStore
    # Runs before the ack: short timeout, no waiting out rate limits (bot.slack_client).
    client: WebClient
    team_id: str
    channel_id: str
    user_id: str
    command: str
    text: str  # Slack's escaping undone; for the lookup, the whole text
    response_url: str | None = None
    recorder: home.QueryRecorder | None = None  # "recently asked"; written synchronously if None

    @classmethod
    def from_command(
        cls,
        command: dict[str, Any],
        store: Store | CachedStore,
        client: WebClient,
        *,
        recorder: home.QueryRecorder | None = None,
    ) -> Request:
        return cls(
            store=store,
            client=client,
            team_id=str(command.get("team_id") or ""),
            channel_id=str(command.get("channel_id") or ""),
            user_id=str(command.get("user_id") or ""),
            command=str(command.get("command") or "/chain"),
            text=unescape_slack(str(command.get("text") or "")).strip(),
            response_url=command.get("response_url"),
            recorder=recorder,
        )


@dataclass(frozen=True)
class Reply:
    message: Message
    response_type: ResponseType = "ephemeral"

    def ack_payload(self) -> dict[str, Any]:
        return {"response_type": self.response_type, **self.message.payload()}


Handler = Callable[[Request], Reply]


@dataclass(frozen=True)
class Subcommand:
    name: str
    handler: Handler
    usage: str


_REGISTRY: dict[str, Subcommand] = {}


def register(name: str, handler: Handler, usage: str | None = None) -> None:
    """Add (or replace) the subcommand ``name`` (one word, matched in any letter case).
    Its usage defaults to the line ``/chain help`` shows for it, so a subcommand the help does
    not list fails here instead of going unannounced."""
    if not re.fullmatch(r"[a-z][a-z0-9_-]*", name):
        raise ValueError(f"bad subcommand name {name!r}")
    _REGISTRY[name] = Subcommand(name, handler, usage_line(name) if usage is None else usage)


def subcommands() -> list[Subcommand]:
    return list(_REGISTRY.values())


def parse(text: str) -> tuple[Subcommand | None, str]:
    """The subcommand the text starts with and the rest; (None, text) for a lookup."""
    first, _, rest = text.strip().partition(" ")
    sub = _REGISTRY.get(first.lower())
    if sub is None:
        return None, text.strip()
    return sub, rest.strip()


def handle(request: Request) -> Reply:
    """Answer one ``/chain``; never raises (an unexpected error becomes an apology)."""
    sub, rest = parse(request.text)
    try:
        if sub is None:
            return lookup(request)
        return sub.handler(_with_text(request, rest))
    except Exception:
        log.exception("/chain %s failed", sub.name if sub else "lookup")
        return Reply(render.render_error("Sorry, that lookup failed. Please try again."))


def _with_text(request: Request, text: str) -> Request:
    return dataclasses.replace(request, text=text)


def examples(store: Store | CachedStore) -> list[EntityRef]:
    """Live examples for the help: the most-cited city, company, policy and project."""
    return store.featured()


def remember(request: Request, slug: str) -> None:
    if not (request.team_id and request.user_id):
        return
    if request.recorder is not None:
        request.recorder.add(request.team_id, request.user_id, slug)
    else:
        home.record_query(request.store.engine, request.team_id, request.user_id, slug)


# --------------------------------------------------------------------------- built-ins


@functools.lru_cache(maxsize=4096)
def _answer_message(
    store: Store | CachedStore, generation: str | None, text: str
) -> tuple[Message, str | None]:
    """The rendered answer to ``text`` and the slug it found. Both depend only on the query
    and the store's build (``generation`` is part of the key for that reason), so each
    distinct query is answered and rendered once per build and process."""
    answer = store.answer(text)
    slug = answer.profile.entity.slug if answer.status == "found" and answer.profile else None
    ex = examples(store) if answer.status == "usage" else []
    return render.render_answer(answer, examples=ex), slug


def lookup(request: Request) -> Reply:
    if not request.text:
        return help_(request)
    store = request.store
    if getattr(store, "enabled", True):
        message, slug = _answer_message(store, store.generation(), request.text)
    else:
        message, slug = _answer_message.__wrapped__(store, None, request.text)
    if slug is not None:
        remember(request, slug)
    return Reply(message)


def help_(request: Request) -> Reply:
    return Reply(render.render_usage(examples=examples(request.store)))


def list_(request: Request) -> Reply:
    kind = normalise_kind(request.text)
    if kind is None:
        return Reply(render.render_error(grammar.LIST_WHAT))
    entities, total = request.store.list_entities(kind, offset=0, limit=LIST_PAGE)
    return Reply(render.render_list(kind, entities, total, offset=0, limit=LIST_PAGE))


def timeline(request: Request) -> Reply:
    if not request.text:
        return Reply(render.render_error(grammar.TIMELINE_WHAT))
    answer = request.store.answer(request.text)
    if answer.status == "found" and answer.profile is not None:
        remember(request, answer.profile.entity.slug)
        return Reply(render.render_timeline(answer.profile))
    return Reply(render.render_answer(answer))


def compare(request: Request) -> Reply:
    sides = grammar.compare_sides(request.text)
    if sides is None:
        return Reply(render.render_error(grammar.COMPARE_WHAT))
    a, b = (request.store.answer(side) for side in sides)
    if a.profile is not None and b.profile is not None:
        return Reply(render.render_compare(a.profile, b.profile))
    return Reply(render.render_compare_unresolved(a, b))


def autolink_(request: Request) -> Reply:
    engine = request.store.engine
    word = request.text.lower()
    if word in ("on", "off"):
        autolink.set_enabled(
            engine, request.team_id, request.channel_id, word == "on", request.user_id
        )
        state = word
    elif not word:
        state = "on" if autolink.is_enabled(engine, request.team_id, request.channel_id) else "off"
    else:
        return Reply(render.render_error("Use `/chain autolink on` or `/chain autolink off`."))
    if state == "on":
        line = (
            "Autolink is *on* in this channel: when a message names a known company, I add one "
            "short reply in its thread (each company at most once a day). I need to be a member "
            "of the channel to see messages (`/invite @Chain Bot`). `/chain autolink off` stops it."
        )
    else:
        line = "Autolink is *off* in this channel. `/chain autolink on` turns it on."
    return Reply(Message(text=escape(line.replace("*", "")), blocks=[render.section(line)]))


register("help", help_)
register("list", list_)
register("timeline", timeline)
register("compare", compare)
register("autolink", autolink_)
