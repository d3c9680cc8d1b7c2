"""The Slack app in process: the /chain grammar and registry, autolink rules, the answer
cache, the Home tab, and Bolt's request check with the clock pinned to Slack's example."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import time_machine
from blockkit import assert_valid_message, assert_valid_view
from fakeslack import FakeSlack
from slack_bolt.request import BoltRequest
from slack_signing import EXAMPLE_BODY, EXAMPLE_SECRET, EXAMPLE_SIGNATURE, EXAMPLE_TIMESTAMP
from sqlalchemy import update

from bot import autolink, dispatch, home
from bot.app import create_app
from bot.cache import CachedStore
from bot.config import SlackConfig
from bot.render.blocks import Message
from bot.slack_client import make_client
from store import Store, db
from store.models import StoreMeta

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as slack:
        yield slack


def _config(fake: FakeSlack, store: Store, secret: str = "s3cret") -> SlackConfig:
    return SlackConfig(
        bot_token="xoxb-unit-test",
        signing_secret=secret,
        app_token=None,
        database_url=str(store.engine.url),
        api_url=fake.api_url,
    )


def _request(store: Store, text: str, **fields: str) -> dispatch.Request:
    return dispatch.Request(
        store=store,
        client=make_client("xoxb-unit-test", "http://127.0.0.1:9/api/"),
        team_id=fields.get("team_id", "T1"),
        channel_id=fields.get("channel_id", "C1"),
        user_id=fields.get("user_id", "U1"),
        command="/chain",
        text=text,
    )


# --------------------------------------------------------------------------- grammar


def test_parse_picks_subcommands_in_any_case_and_leaves_lookups() -> None:
    sub, rest = dispatch.parse("TimeLine  Qingdao city")
    assert sub is not None and sub.name == "timeline" and rest == "Qingdao city"
    assert dispatch.parse("Qingdao") == (None, "Qingdao")
    assert dispatch.parse("") == (None, "")


def test_registry_takes_new_subcommands_without_editing_dispatch(store: Store) -> None:
    def ping(request: dispatch.Request) -> dispatch.Reply:
        return dispatch.Reply(Message(text=f"pong {request.text}"), response_type="in_channel")

    dispatch.register("pingtest", ping, "/chain pingtest")
    try:
        reply = dispatch.handle(_request(store, "pingtest a b"))
        assert reply.ack_payload()["text"] == "pong a b"
        assert reply.response_type == "in_channel"
        assert "pingtest" in [s.name for s in dispatch.subcommands()]
    finally:
        dispatch._REGISTRY.pop("pingtest")
    with pytest.raises(ValueError):
        dispatch.register("two words", ping, "")


def test_a_failing_handler_becomes_an_apology(store: Store) -> None:
    def broken(_request: dispatch.Request) -> dispatch.Reply:
        raise RuntimeError("boom")

    dispatch.register("brokentest", broken, "")
    try:
        reply = dispatch.handle(_request(store, "brokentest"))
    finally:
        dispatch._REGISTRY.pop("brokentest")
    assert "try again" in reply.message.text and "boom" not in reply.message.text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "help",
        "Qingdao",
        "Qingdoa",
        "Atlantis",
        "list cities",
        "list companies",
        "list dragons",
        "timeline Qingdao",
        "timeline",
        "compare Qingdao vs Shanghai",
        "compare Qingdao versus Nowhereville",
        "compare Qingdao",
        "autolink",
        "autolink maybe",
        "<!channel> & <@U123>",
    ],
)
def test_every_reply_is_valid_block_kit(store: Store, text: str) -> None:
    reply = dispatch.handle(_request(store, text))
    assert_valid_message(reply.message)
    assert reply.response_type == "ephemeral"


def test_lookup_records_recent_query(store: Store) -> None:
    dispatch.handle(_request(store, "Qingdao", user_id="U9"))
    recent = home.recent_entities(store.engine, "T1", "U9")
    assert [e.name for e in recent] == ["Qingdao"]
    assert home.recent_entities(store.engine, "T2", "U9") == []  # other team: nothing


# --------------------------------------------------------------------------- autolink


def test_autolink_is_off_by_default_and_per_team(store: Store) -> None:
    engine = store.engine
    assert not autolink.is_enabled(engine, "T1", "C1")
    dispatch.handle(_request(store, "autolink on"))
    assert autolink.is_enabled(engine, "T1", "C1")
    assert not autolink.is_enabled(engine, "T2", "C1")
    dispatch.handle(_request(store, "autolink OFF"))
    assert not autolink.is_enabled(engine, "T1", "C1")


def test_autolink_claim_is_once_per_entity_channel_and_day(store: Store) -> None:
    engine, day = store.engine, dt.date(2026, 1, 5)
    assert autolink.claim(engine, "T1", "C1", "company:x", day)
    assert not autolink.claim(engine, "T1", "C1", "company:x", day)
    assert autolink.claim(engine, "T1", "C2", "company:x", day)
    assert autolink.claim(engine, "T1", "C1", "company:x", day + dt.timedelta(days=1))


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"user": "U1", "text": "Alibaba news"}, True),
        ({"user": "U1", "text": "hi", "subtype": "message_changed"}, False),
        ({"user": "U1", "text": "hi", "bot_id": "B1"}, False),
        ({"user": "UBOT", "text": "hi"}, False),
        ({"user": "U1", "text": "<@UBOT> Alibaba?"}, False),
        ({"text": "no user"}, False),
    ],
)
def test_autolink_only_answers_people(event: dict[str, str], expected: bool) -> None:
    assert autolink.qualifies(event, "UBOT") is expected


def test_plain_text_drops_mentions_and_link_targets() -> None:
    text = "<@U1> see <https://x.test/a|Bubi &amp; Qingdao> and <https://y.test> &lt;b&gt;"
    assert " ".join(autolink.plain_text(text).split()) == "see Bubi & Qingdao and <b>"


# --------------------------------------------------------------------------- cache


def test_cache_drops_answers_when_the_generation_changes(store: Store) -> None:
    now = [0.0]
    cached = CachedStore(store, check_every=2.0, clock=lambda: now[0])
    first = cached.answer("Qingdao")
    assert cached.answer("Qingdao") is first
    # A rebuild with other inputs gets another generation (same inputs keep theirs).
    with db.session_scope(store.engine) as session:
        session.execute(update(StoreMeta).where(StoreMeta.key == "generation").values(value="g2"))
    assert cached.answer("Qingdao") is first  # within check_every: still the old build
    now[0] = 3.0
    fresh = cached.answer("Qingdao")
    assert fresh is not first and fresh.profile == first.profile


def test_cache_keeps_help_examples_per_build(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = Store.featured
    monkeypatch.setattr(Store, "featured", lambda self: calls.append(1) or real(self))
    cached = CachedStore(store)
    assert cached.featured() == cached.featured() == real(store)
    assert len(calls) == 1


# --------------------------------------------------------------------------- Home tab


def test_home_view_is_valid_and_lists_recent(store: Store) -> None:
    home.record_query(store.engine, "T1", "U1", "city:qingdao")
    view = home.home_view(store, "T1", "U1")
    assert_valid_view(view)
    text = json.dumps(view)
    assert "Qingdao" in text and "facts" in text


# --------------------------------------------------------------------------- Bolt


def test_documented_example_passes_bolts_check_with_the_clock_pinned(
    store: Store, fake: FakeSlack
) -> None:
    """In process with time pinned to Slack's example, Bolt accepts the request (the
    end-to-end server, whose clock is real, must refuse it: test_slack_e2e). Any command
    name is served, so the example's ``/webhook-collect`` with empty text gets the help."""
    app = create_app(_config(fake, store, secret=EXAMPLE_SECRET), store)
    headers = {
        "content-type": ["application/x-www-form-urlencoded"],
        "x-slack-request-timestamp": [str(EXAMPLE_TIMESTAMP)],
        "x-slack-signature": [EXAMPLE_SIGNATURE],
    }
    with time_machine.travel(EXAMPLE_TIMESTAMP + 1, tick=False):
        response = app.dispatch(BoltRequest(body=EXAMPLE_BODY, headers=headers))
        forged = app.dispatch(
            BoltRequest(body=EXAMPLE_BODY, headers={**headers, "x-slack-signature": ["v0=00"]})
        )
    assert response.status == 200, response.body
    assert "/chain list" in json.loads(response.body)["text"]
    assert forged.status == 401


def test_bench_http_quick_runs(seed_db_url: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.http", "--quick", "--database-url", seed_db_url],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [line.split("|")[1].strip() for line in result.stdout.splitlines() if "|" in line]
    assert {"/chain", "/chain, no memo", "no-op"} <= set(rows)
    assert "p99 ms" in result.stdout and "throughput" in result.stdout


# --------------------------------------------------------------------------- OAuth mode


def test_oauth_mode_answers_each_workspace_with_its_own_token(
    seed_db_url: str, fake: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With SLACK_CLIENT_ID/SECRET/STATE_SECRET set (bot.oauth), no SLACK_BOT_TOKEN is
    needed; requests from an installed workspace are answered with that workspace's token."""
    import hashlib

    from slack_sdk.oauth.installation_store import Installation
    from slack_signing import JSON, event_body, signed_headers

    from bot import config as slack_config
    from bot import oauth

    monkeypatch.setenv("SLACK_CLIENT_ID", "111.222")
    monkeypatch.setenv("SLACK_CLIENT_SECRET", "client-secret-value")
    monkeypatch.setenv("SLACK_STATE_SECRET", "state-secret-0123456789")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s3cret")
    monkeypatch.setenv("SLACK_API_URL", fake.api_url)
    monkeypatch.setenv("DATABASE_URL", seed_db_url)
    cfg = slack_config.load("http")
    assert cfg.bot_token is None and cfg.oauth is not None
    store = Store.open(seed_db_url, build_if_empty=False)
    token = "xoxb-installed-in-tzero"
    oauth.installation_store(store.engine, cfg.oauth).save(
        Installation(
            app_id="A0CHAINBOT",
            enterprise_id=None,
            team_id="T0FAKE",
            bot_token=token,
            bot_id="B0CHAINBOT",
            bot_user_id="U0CHAINBOT",
            bot_scopes=list(oauth.BOT_SCOPES),
            user_id="U0INSTALLER",
        )
    )
    app = create_app(cfg, store)
    event = {
        "type": "app_mention",
        "channel": "C0GENERAL",
        "user": "U0ALICE",
        "text": "<@U0CHAINBOT> Qingdao",
        "ts": "1700003000.1",
    }
    body = event_body(event, event_id="Ev0OAUTH")
    headers = {k.lower(): [v] for k, v in signed_headers("s3cret", body, content_type=JSON).items()}
    assert app.dispatch(BoltRequest(body=body, headers=headers)).status == 200
    (post,) = fake.wait_for("chat.postMessage")
    assert post.token_sha == hashlib.sha256(token.encode()).hexdigest()[:12]
    assert post.params["thread_ts"] == "1700003000.1"
