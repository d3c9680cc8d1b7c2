"""End to end: the real ``chainbot serve`` (gunicorn, two workers) on 127.0.0.1, requests
signed as Slack signs them, and the fake Slack Web API recording what the app sends back.

One server process serves the whole module; each test resets the fake and uses its own
channel or user ids where database state (autolink, recent queries) could leak between tests.
"""

from __future__ import annotations

import http.client
import json
import os
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from blockkit import assert_valid_message, assert_valid_view
from fakeslack import FakeSlack
from processes import chainbot_command, free_port, stop, wait_healthy
from slack_signing import (
    EXAMPLE_BODY,
    EXAMPLE_SIGNATURE,
    EXAMPLE_TIMESTAMP,
    FORM,
    JSON,
    command_body,
    event_body,
    interactive_body,
    signed_headers,
)
from sqlalchemy import func, select

from bot.render import actions
from store import Store, db
from store.models import AutolinkSetting, EventReceipt, RecentQuery

pytestmark = pytest.mark.slow

TOKEN = "xoxb-e2e-0000-supersecretvalue"
SECRET = "e2esecret0123456789abcdef012345"
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Server:
    port: int
    log: Path
    database_url: str
    process: subprocess.Popen[bytes]

    def request(
        self, body: str, content_type: str, *, headers: dict[str, str] | None = None
    ) -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("POST", "/slack/events", body=body.encode(), headers=headers or {})
            response = conn.getresponse()
            return response.status, response.read().decode()
        finally:
            conn.close()

    def signed(
        self, body: str, content_type: str, *, extra: dict[str, str] | None = None
    ) -> tuple[int, str]:
        headers = signed_headers(SECRET, body, content_type=content_type)
        return self.request(body, content_type, headers={**headers, **(extra or {})})

    def command(self, text: str, fake: FakeSlack, **fields: str) -> dict[str, Any]:
        body = command_body(text, response_url=fake.response_url("cmd"), **fields)
        status, payload = self.signed(body, FORM)
        assert status == 200, payload
        return json.loads(payload)

    def click(self, fake: FakeSlack, button: dict[str, Any], **overrides: Any) -> int:
        payload = {
            "type": "block_actions",
            "team": {"id": "T0FAKE", "domain": "fake"},
            "user": {"id": overrides.pop("user", "U0ALICE"), "team_id": "T0FAKE"},
            "api_app_id": "A0CHAINBOT",
            "container": overrides.pop(
                "container", {"type": "message", "is_ephemeral": True, "channel_id": "C0GENERAL"}
            ),
            "channel": {"id": overrides.pop("channel", "C0GENERAL"), "name": "general"},
            "trigger_id": "1.2.3",
            "response_url": fake.response_url("click"),
            "actions": [
                {
                    "type": "button",
                    "action_id": button["action_id"],
                    "block_id": "b1",
                    "value": button["value"],
                    "action_ts": "1700000000.1",
                }
            ],
            **overrides,
        }
        status, _ = self.signed(interactive_body(payload), FORM)
        return status

    def event(self, event: dict[str, Any], event_id: str, **extra: str) -> int:
        status, _ = self.signed(event_body(event, event_id=event_id), JSON, extra=extra)
        return status

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite database: the seed store is in WAL mode, so a
    plain file copy can miss what is still in its -wal file."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as slack:
        yield slack


@pytest.fixture(scope="module")
def server(
    fake: FakeSlack, seed_db_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("serve")
    database = workdir / "store.sqlite3"
    copy_sqlite(seed_db_file, database)
    port = free_port()
    log = workdir / "serve.log"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SLACK_")},
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.api_url,
        "DATABASE_URL": f"sqlite:///{database}",
        "PORT": str(port),
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*chainbot_command(), "serve", "--host", "127.0.0.1", "--workers", "2"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    try:
        wait_healthy(port, process, output=lambda: log.read_text()[-2000:])
        yield Server(port, log, f"sqlite:///{database}", process)
    finally:
        stop(process)


@pytest.fixture
def slack(fake: FakeSlack, server: Server) -> FakeSlack:
    fake.reset()
    return fake


@pytest.fixture(scope="module")
def facts(seed_db_file: Path) -> Store:
    """The seed store read directly, to pick real names for the requests."""
    return Store.open(f"sqlite:///{seed_db_file}", build_if_empty=False)


def _buttons(message: dict[str, Any], base: str) -> list[dict[str, Any]]:
    found = []
    for block in message.get("blocks", []):
        elements = block.get("elements", []) if block.get("type") == "actions" else []
        accessory = block.get("accessory")
        for element in [*elements, *([accessory] if accessory else [])]:
            if element.get("type") == "button" and actions.base_of(element["action_id"]) == base:
                found.append(element)
    return found


def _header(message: dict[str, Any]) -> str:
    return next(b["text"]["text"] for b in message["blocks"] if b["type"] == "header")


def _company(facts: Store) -> Any:
    companies, _ = facts.list_entities("company", limit=50)
    return companies[0]


def _wait_quiet(fake: FakeSlack, method: str, count: int, settle: float = 0.5) -> list[Any]:
    """Wait for ``count`` calls, then make sure no more arrive for ``settle`` seconds."""
    fake.wait_for(method, count)
    time.sleep(settle)
    return fake.calls(method)


# --------------------------------------------------------------------------- health, signing


def test_healthz_reports_the_store(server: Server) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.request("GET", "/healthz")
    response = conn.getresponse()
    assert response.status == 200
    assert json.loads(response.read())["store_generation"]


def test_forged_signature_gets_401_and_does_nothing(server: Server, slack: FakeSlack) -> None:
    body = command_body("autolink on", response_url=slack.response_url(), channel_id="C0FORGED")
    headers = signed_headers("not-the-secret", body, content_type=FORM)
    status, _ = server.request(body, FORM, headers=headers)
    assert status == 401
    assert _autolink_rows(server, "C0FORGED") == 0
    assert slack.calls() == []


def test_stale_timestamp_gets_401_and_does_nothing(server: Server, slack: FakeSlack) -> None:
    body = command_body("autolink on", response_url=slack.response_url(), channel_id="C0STALE")
    headers = signed_headers(SECRET, body, content_type=FORM, timestamp=int(time.time()) - 301)
    status, _ = server.request(body, FORM, headers=headers)
    assert status == 401
    assert _autolink_rows(server, "C0STALE") == 0


def test_documented_example_is_refused_end_to_end_as_a_replay(server: Server) -> None:
    """Slack's worked example is correctly signed, but with a 2018 timestamp: a server whose
    clock is not pinned must refuse it as a replay (its secret is not ours either). The
    signature itself is verified with the clock pinned in test_slack_config and below."""
    headers = {
        "Content-Type": FORM,
        "X-Slack-Request-Timestamp": str(EXAMPLE_TIMESTAMP),
        "X-Slack-Signature": EXAMPLE_SIGNATURE,
    }
    assert server.request(EXAMPLE_BODY, FORM, headers=headers)[0] == 401


def _wait_until(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.05)


def _recent_rows(server: Server, user: str) -> int:
    engine = db.get_engine(server.database_url)
    with db.session_scope(engine) as session:
        return int(
            session.scalar(
                select(func.count()).select_from(RecentQuery).where(RecentQuery.user_id == user)
            )
            or 0
        )


def _autolink_rows(server: Server, channel: str) -> int:
    engine = db.get_engine(server.database_url)
    with db.session_scope(engine) as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(AutolinkSetting)
                .where(AutolinkSetting.channel_id == channel)
            )
            or 0
        )


# --------------------------------------------------------------------------- /chain


def test_chain_name_answers_an_ephemeral_card_with_share(
    server: Server, slack: FakeSlack, facts: Store
) -> None:
    company = _company(facts)
    reply = server.command(company.name, slack)
    assert reply["response_type"] == "ephemeral"
    assert_valid_message(reply)
    assert _header(reply) == company.name.replace("&", "&amp;").replace("<", "&lt;")
    assert _buttons(reply, actions.SHARE_CHANNEL)


def test_chain_help_and_empty(server: Server, slack: FakeSlack) -> None:
    for text in ("", "help", "HELP"):
        reply = server.command(text, slack)
        assert_valid_message(reply)
        assert "/chain list" in reply["text"]


def test_channel_ping_is_escaped(server: Server, slack: FakeSlack) -> None:
    # Slack sends a typed "<" as "&lt;"; a raw "<!channel>" can only come from a forged or
    # special-cased payload. Neither may be echoed so that it pings.
    for text in ("Atlantis <!channel>", "Atlantis &lt;!here&gt;"):
        reply = server.command(text, slack)
        raw = json.dumps(reply)
        assert "<!channel>" not in raw and "<!here>" not in raw
        assert "&lt;!channel&gt;" in raw or "&lt;!here&gt;" in raw


def test_share_in_channel_posts_the_card_for_everyone(
    server: Server, slack: FakeSlack, facts: Store
) -> None:
    company = _company(facts)
    reply = server.command(company.name, slack)
    (share,) = _buttons(reply, actions.SHARE_CHANNEL)
    assert server.click(slack, share) == 200
    (posted,) = slack.wait_for("response_url")
    assert posted.params["response_type"] == "in_channel"
    assert posted.params["replace_original"] is True
    assert posted.params["blocks"][0] == reply["blocks"][0]
    assert not _buttons(posted.params, actions.SHARE_CHANNEL)
    assert "Shared by <@U0ALICE>" in json.dumps(posted.params["blocks"])


def test_list_pages_with_buttons(server: Server, slack: FakeSlack, facts: Store) -> None:
    _, total = facts.list_entities("city", limit=1)
    reply = server.command("list cities", slack)
    assert_valid_message(reply)
    if total <= 10:
        pytest.skip("the seed store has too few cities to page")
    (next_button,) = _buttons(reply, actions.LIST_PAGE)
    server.click(slack, next_button)
    (page,) = slack.wait_for("response_url")
    assert page.params["replace_original"] is True
    assert f"11–{min(20, total)} of {total}" in json.dumps(page.params, ensure_ascii=False)


def test_related_and_more_buttons_open_cards(
    server: Server, slack: FakeSlack, facts: Store
) -> None:
    city = facts.answer("Qingdao")
    assert city.profile is not None
    reply = server.command("Qingdao", slack)
    more = _buttons(reply, actions.MORE)
    related = _buttons(reply, actions.OPEN)
    assert more and related
    server.click(slack, more[0])
    server.click(slack, related[0])
    calls = slack.wait_for("response_url", 2)
    texts = [json.dumps(c.params) for c in calls]
    assert any("page 2 of" in t for t in texts)
    for call in calls:
        assert_valid_message(call.params)


def test_button_on_a_shared_card_answers_the_clicker_only(server: Server, slack: FakeSlack) -> None:
    reply = server.command("Qingdao", slack)
    related = _buttons(reply, actions.OPEN)[0]
    server.click(slack, related, container={"type": "message", "is_ephemeral": False})
    (call,) = slack.wait_for("response_url")
    assert call.params["replace_original"] is False
    assert call.params["response_type"] == "ephemeral"


def test_timeline_and_compare(server: Server, slack: FakeSlack, facts: Store) -> None:
    timeline = server.command("timeline Qingdao", slack)
    assert_valid_message(timeline)
    assert _header(timeline).startswith("Timeline")
    company = _company(facts)
    compare = server.command(f"compare Qingdao vs {company.name}", slack)
    assert_valid_message(compare)
    assert " vs " in _header(compare)


def test_stale_button_value_gets_an_explanation(server: Server, slack: FakeSlack) -> None:
    bogus = {
        "action_id": actions.action_id(actions.OPEN, 1),
        "value": actions.encode(actions.CardValue("company:no-such-thing")),
    }
    assert server.click(slack, bogus) == 200
    (call,) = slack.wait_for("response_url")
    assert "out of date" in call.params["text"]


def test_autolink_on_then_one_reply_per_company_per_day(
    server: Server, slack: FakeSlack, facts: Store
) -> None:
    company = _company(facts)
    reply = server.command("autolink on", slack, channel_id="C0AUTO")
    assert "on" in reply["text"]
    message = {
        "type": "message",
        "channel": "C0AUTO",
        "user": "U0BOB",
        "text": f"Have you seen what {company.name} did?",
        "ts": "1700000100.000100",
        "channel_type": "channel",
    }
    assert server.event(message, "Ev0AUTO1") == 200
    (post,) = slack.wait_for("chat.postMessage")
    assert post.params["thread_ts"] == "1700000100.000100"
    assert_valid_message(post.params)
    # Same company, same channel, same day: no second reply. Another channel (off): none.
    server.event({**message, "ts": "1700000200.000200"}, "Ev0AUTO2")
    server.event({**message, "channel": "C0QUIET", "ts": "1700000300.1"}, "Ev0AUTO3")
    server.event({**message, "ts": "1700000400.1", "bot_id": "B1", "user": "U0OTHERBOT"}, "Ev4")
    assert len(_wait_quiet(slack, "chat.postMessage", 1)) == 1


# --------------------------------------------------------------------------- mid-conversation


def test_app_mention_with_a_retry_is_answered_once(
    server: Server, slack: FakeSlack, facts: Store
) -> None:
    company = _company(facts)
    mention = {
        "type": "app_mention",
        "channel": "C0GENERAL",
        "user": "U0ALICE",
        "text": f"<@U0CHAINBOT> what about Qingdao and {company.name}?",
        "ts": "1700000500.000500",
    }
    assert server.event(mention, "Ev0MENTION") == 200
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert server.event(mention, "Ev0MENTION", **retry) == 200
    (post,) = _wait_quiet(slack, "chat.postMessage", 1)
    assert post.params["thread_ts"] == "1700000500.000500"
    assert_valid_message(post.params)
    text = json.dumps(post.params["blocks"])
    # Companies first.
    assert text.index(company.name) < text.index("Qingdao")
    engine = db.get_engine(server.database_url)
    with db.session_scope(engine) as session:
        assert session.get(EventReceipt, "Ev0MENTION") is not None


def test_message_shortcut_lists_entities_then_shares_in_thread(
    server: Server, slack: FakeSlack, facts: Store
) -> None:
    company = _company(facts)
    payload = {
        "type": "message_action",
        "callback_id": "lookup_message",
        "team": {"id": "T0FAKE"},
        "user": {"id": "U0ALICE"},
        "channel": {"id": "C0GENERAL"},
        "message": {"type": "message", "text": f"{company.name} in Qingdao", "ts": "1700000600.1"},
        "response_url": slack.response_url("shortcut"),
        "trigger_id": "1.2.3",
    }
    status, _ = server.signed(interactive_body(payload), FORM)
    assert status == 200
    (listing,) = slack.wait_for("response_url")
    assert_valid_message(listing.params)
    shares = _buttons(listing.params, actions.SHARE_THREAD)
    assert len(shares) >= 2
    server.click(slack, shares[0])
    (post,) = slack.wait_for("chat.postMessage")
    assert (post.params["channel"], post.params["thread_ts"]) == ("C0GENERAL", "1700000600.1")


def test_share_in_thread_not_in_channel_explains_ephemerally(
    server: Server, slack: FakeSlack, facts: Store
) -> None:
    value = actions.ThreadValue(_company(facts).slug, "C0PRIVATE", "1700000700.1")
    button = {
        "action_id": actions.action_id(actions.SHARE_THREAD, 1),
        "value": actions.encode(value),
    }
    slack.fail("chat.postMessage", "not_in_channel")
    server.click(slack, button, channel="C0PRIVATE")
    (call,) = slack.wait_for("response_url")
    assert "/invite" in call.params["text"] and call.params["response_type"] == "ephemeral"


def test_app_home_opened_publishes_the_home_tab(
    server: Server, slack: FakeSlack, facts: Store
) -> None:
    company = _company(facts)
    server.command(company.name, slack, user_id="U0HOME")
    # "Recently asked" is written off the request path (bot.home.QueryRecorder).
    _wait_until(lambda: _recent_rows(server, "U0HOME") > 0)
    event = {"type": "app_home_opened", "user": "U0HOME", "channel": "D0HOME", "tab": "home"}
    assert server.event(event, "Ev0HOME") == 200
    (publish,) = slack.wait_for("views.publish")
    assert publish.params["user_id"] == "U0HOME"
    view = publish.params["view"]
    assert_valid_view(view)
    text = json.dumps(view)
    assert "articles" in text and company.name in text


# --------------------------------------------------------------------------- Slack trouble


def test_rate_limited_post_is_retried_after_retry_after(server: Server, slack: FakeSlack) -> None:
    slack.rate_limit("chat.postMessage", times=1, retry_after=1)
    mention = {
        "type": "app_mention",
        "channel": "C0GENERAL",
        "user": "U0ALICE",
        "text": "<@U0CHAINBOT> Qingdao",
        "ts": "1700000800.1",
    }
    server.event(mention, "Ev0RATE")
    first, second = slack.wait_for("chat.postMessage", 2, timeout=10)
    assert (first.status, second.status) == (429, 200)
    assert second.at - first.at >= 1.0


def test_server_error_is_retried(server: Server, slack: FakeSlack) -> None:
    slack.server_error("chat.postMessage", times=1)
    mention = {
        "type": "app_mention",
        "channel": "C0GENERAL",
        "user": "U0ALICE",
        "text": "<@U0CHAINBOT> Qingdao",
        "ts": "1700000900.1",
    }
    server.event(mention, "Ev0FIVEHUNDRED")
    calls = slack.wait_for("chat.postMessage", 2, timeout=10)
    assert [c.status for c in calls] == [500, 200]


def test_channel_not_found_never_crashes_and_tells_the_author(
    server: Server, slack: FakeSlack
) -> None:
    slack.fail("chat.postMessage", "channel_not_found")
    mention = {
        "type": "app_mention",
        "channel": "C0GONE",
        "user": "U0ALICE",
        "text": "<@U0CHAINBOT> Qingdao",
        "ts": "1700001000.1",
    }
    server.event(mention, "Ev0GONE")
    (note,) = slack.wait_for("chat.postEphemeral")
    assert note.params["user"] == "U0ALICE"
    assert server.process.poll() is None
    assert server.command("help", slack)["text"]


def test_secrets_never_reach_the_logs(server: Server, slack: FakeSlack) -> None:
    slack.fail("views.publish", "token_revoked")
    event = {"type": "app_home_opened", "user": "U0LOG", "channel": "D0LOG", "tab": "home"}
    server.event(event, "Ev0LOG")
    slack.wait_for("views.publish")
    time.sleep(0.3)
    log = server.log_text()
    assert "token_revoked" in log  # the error was logged...
    assert TOKEN not in log and SECRET not in log  # ...without the secrets


def test_home_tab_button_opens_a_card_modal_then_updates_it(
    server: Server, slack: FakeSlack, facts: Store
) -> None:
    company = _company(facts)
    button = {
        "action_id": actions.action_id(actions.OPEN, 1),
        "value": actions.encode(actions.CardValue(company.slug)),
    }
    home_container = {"type": "view", "view_id": "V0HOME"}
    server.click(slack, button, container=home_container, view={"id": "V0HOME", "type": "home"})
    (opened,) = slack.wait_for("views.open")
    modal = opened.params["view"]
    assert modal["type"] == "modal" and opened.params["trigger_id"] == "1.2.3"
    assert_valid_view(modal)
    assert not _buttons(modal, actions.SHARE_CHANNEL)  # no response_url in a modal
    inner = _buttons(modal, actions.OPEN) or _buttons(modal, actions.TIMELINE)
    modal_container = {"type": "view", "view_id": "V0MODAL"}
    server.click(
        slack, inner[0], container=modal_container, view={"id": "V0MODAL", "type": "modal"}
    )
    (updated,) = slack.wait_for("views.update")
    assert updated.params["view_id"] == "V0MODAL"
    assert_valid_view(updated.params["view"])


def test_ack_never_waits_out_a_rate_limit(server: Server, slack: FakeSlack) -> None:
    """A subcommand that asks Slack before acking (subscribe reads users.info for the time
    zone) gets no 429 retries on the ack path: the answer still comes in well under 3 s."""
    slack.rate_limit("users.info", times=5, retry_after=30)
    began = time.monotonic()
    reply = server.command("subscribe friday 10:00", slack, channel_id="C0RATE")
    assert time.monotonic() - began < 2.5
    assert_valid_message(reply)
    assert [c.status for c in slack.calls("users.info")] == [429]


def test_did_you_mean_pick_shows_that_card(server: Server, slack: FakeSlack, facts: Store) -> None:
    answer = facts.answer("Shang")
    assert answer.status == "ambiguous" and answer.resolution.candidates
    reply = server.command("Shang", slack)
    assert_valid_message(reply)
    picks = _buttons(reply, actions.PICK)
    assert len(picks) == len(answer.resolution.candidates)
    server.click(slack, picks[0])
    (card,) = slack.wait_for("response_url")
    assert card.params["replace_original"] is True
    assert _header(card.params) == answer.resolution.candidates[0].entity.name.replace("&", "&amp;")
