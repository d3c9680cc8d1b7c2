"""``/chain subscribe|unsubscribe|subscriptions|digest`` through the ``/chain`` dispatcher,
with users.info answered by the fake Slack Web API."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest
from blockkit import assert_valid_message
from fakeslack import FakeSlack
from slack_sdk import WebClient

import bot.listeners.digest_commands  # noqa: F401  (registers the subcommands)
from bot import dispatch
from store import Store
from store import subscriptions as subs

TOKEN = "xoxb-commands-secret"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def run(
    store: Store,
    slack: FakeSlack,
    text: str,
    *,
    team: str = "T1",
    channel: str = "C1",
    user: str = "U1",
) -> dispatch.Reply:
    request = dispatch.Request(
        store=store,
        client=WebClient(token=TOKEN, base_url=slack.api_url),
        team_id=team,
        channel_id=channel,
        user_id=user,
        command="/chain",
        text=text,
    )
    reply = dispatch.handle(request)
    assert reply.response_type == "ephemeral"
    assert_valid_message(reply.message)
    return reply


def shown(reply: dispatch.Reply) -> str:
    return reply.message.text + "\n" + str(reply.message.blocks)


def test_subscribe_defaults_to_monday_nine_in_the_callers_slack_zone(
    store: Store, slack: FakeSlack
) -> None:
    slack.set_user("U1", tz="America/New_York")
    reply = run(store, slack, "subscribe")
    sub = subs.get_for_channel(store.engine, team_id="T1", channel_id="C1")
    assert sub.schedule_text == "Monday 09:00 America/New_York" and sub.created_by == "U1"
    assert sub.skip_empty
    assert "Monday 09:00 America/New_York" in reply.message.text
    assert "your Slack time zone" in reply.message.text
    # The exact next send time, in the zone and in UTC.
    nxt = subs.next_send_time(sub, dt.datetime.now(dt.UTC))
    utc = nxt.astimezone(dt.UTC)
    assert f"{nxt:%A %Y-%m-%d} 09:00 America/New_York ({utc:%H:%M} UTC)" in reply.message.text
    assert slack.calls("users.info")[0].params["user"] == "U1"


def test_subscribe_with_a_schedule_and_always(store: Store, slack: FakeSlack) -> None:
    reply = run(store, slack, "subscribe tue 8:30 Asia/Shanghai always")
    sub = subs.get_for_channel(store.engine, team_id="T1", channel_id="C1")
    assert (sub.schedule_text, sub.skip_empty) == ("Tuesday 08:30 Asia/Shanghai", False)
    assert "08:30 Asia/Shanghai (00:30 UTC)" in reply.message.text
    assert "From the archive" in shown(reply)
    assert slack.calls("users.info") == []  # a zone was given: no need to ask Slack


def test_subscribe_falls_back_to_utc_when_slack_cannot_say(store: Store, slack: FakeSlack) -> None:
    slack.fail("users.info", "user_not_found")
    reply = run(store, slack, "subscribe friday 17:00")
    sub = subs.get_for_channel(store.engine, team_id="T1", channel_id="C1")
    assert sub.schedule_text == "Friday 17:00 UTC"
    assert "UTC: your Slack time zone was not available" in reply.message.text


def test_subscribe_bad_input_is_explained_and_escaped(store: Store, slack: FakeSlack) -> None:
    reply = run(store, slack, "subscribe <!channel> 25:00")
    assert "&lt;!channel&gt;" in reply.message.text and "<!channel>" not in shown(reply)
    assert subs.get_for_channel(store.engine, team_id="T1", channel_id="C1") is None
    reply = run(store, slack, "subscribe 25:00")
    assert "not a time of day" in reply.message.text


def test_subscriptions_and_unsubscribe_are_per_channel_and_per_team(
    store: Store, slack: FakeSlack
) -> None:
    run(store, slack, "subscribe monday 09:00 UTC")
    run(store, slack, "subscribe friday 17:00 UTC", team="T2")
    mine = run(store, slack, "subscriptions")
    assert "Monday 09:00 UTC" in mine.message.text and "Friday" not in mine.message.text
    assert "Next digest" in mine.message.text
    assert "no weekly digest" in run(store, slack, "subscriptions", channel="C9").message.text
    # Team T2 unsubscribing "C1" removes its own row only.
    assert "Unsubscribed" in run(store, slack, "unsubscribe", team="T2").message.text
    assert subs.get_for_channel(store.engine, team_id="T1", channel_id="C1") is not None
    assert "no weekly digest" in run(store, slack, "unsubscribe", team="T2").message.text


def test_subscriptions_shows_a_pause_and_resubscribe_resumes(
    store: Store, slack: FakeSlack
) -> None:
    run(store, slack, "subscribe UTC")
    subs.pause(store.engine, team_id="T1", channel_id="C1", reason="is_archived")
    assert "Paused" in run(store, slack, "subscriptions").message.text
    run(store, slack, "subscribe UTC")
    assert subs.get_for_channel(store.engine, team_id="T1", channel_id="C1").status == "active"


def test_digest_preview_of_the_week_of_004(store: Store, slack: FakeSlack) -> None:
    reply = run(store, slack, "digest 2019-12-18")  # any day of the week
    text = shown(reply)
    assert "Industry Blockchain Weekly News" in text
    assert "the week of Monday 2019-12-16" in text
    assert slack.calls("chat.postMessage") == []  # a preview posts nothing


def test_digest_preview_rejects_a_bad_date(store: Store, slack: FakeSlack) -> None:
    reply = run(store, slack, "digest 2019-13-45")
    assert "not a date" in reply.message.text


def test_digest_preview_says_which_monday_it_chose(store: Store, slack: FakeSlack) -> None:
    text = shown(run(store, slack, "digest 2019-12-18"))
    assert "2019-12-18 is a Wednesday: showing the week from Monday 2019-12-16" in text


def test_digest_preview_echoes_hostile_input_short_and_escaped(
    store: Store, slack: FakeSlack
) -> None:
    reply = run(store, slack, "digest <!channel> " + "x" * 5000)
    assert_valid_message(reply.message)
    body = json.dumps(reply.message.blocks)
    assert "<!channel>" not in body and "&lt;!channel&gt;" in body
    assert len(reply.message.text) < 200


def test_subcommands_are_registered_with_usage() -> None:
    names = {s.name: s.usage for s in dispatch.subcommands()}
    assert {"subscribe", "unsubscribe", "subscriptions", "digest"} <= names.keys()
    assert names["subscribe"].startswith("/chain subscribe")


def test_signed_slash_command_through_the_app_subscribes_the_channel(
    store: Store, slack: FakeSlack
) -> None:
    """End to end in process: a request signed as Slack signs it reaches the handler through
    the app factory (which imports these subcommands) and Bolt."""
    from slack_bolt.request import BoltRequest
    from slack_signing import command_body, signed_headers

    from bot.app import create_app
    from bot.config import SlackConfig

    secret = "digestsecret"
    config = SlackConfig(
        bot_token=TOKEN,
        signing_secret=secret,
        app_token=None,
        database_url=str(store.engine.url),
        api_url=slack.api_url,
    )
    app = create_app(config, store)
    slack.set_user("U0ALICE", tz="Europe/Paris")
    body = command_body("subscribe friday 17:00", response_url=slack.response_url())
    headers = signed_headers(secret, body, content_type="application/x-www-form-urlencoded")
    response = app.dispatch(
        BoltRequest(body=body, headers={k.lower(): [v] for k, v in headers.items()})
    )
    assert response.status == 200, response.body
    payload = json.loads(response.body)
    assert payload["response_type"] == "ephemeral"
    assert "Friday 17:00 Europe/Paris" in payload["text"]
    sub = subs.get_for_channel(store.engine, team_id="T0FAKE", channel_id="C0GENERAL")
    assert (sub.schedule_text, sub.created_by) == ("Friday 17:00 Europe/Paris", "U0ALICE")


def test_confirmation_names_the_utc_day_when_it_differs(store: Store, slack: FakeSlack) -> None:
    reply = run(store, slack, "subscribe monday 07:00 Asia/Shanghai")
    assert "07:00 Asia/Shanghai (Sun 23:00 UTC)" in reply.message.text


def test_subscribe_with_words_it_does_not_know_explains_in_one_sentence(
    store: Store, slack: FakeSlack
) -> None:
    text = run(store, slack, "subscribe blah").message.text
    assert "I don't understand blah" in text and ".." not in text
    assert text.endswith("Usage: /chain subscribe [weekday] [HH:MM] [time zone] [always]")
