"""The fake Slack Web API answers, records and fails as its docstring promises."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fakeslack import FakeSlack
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

TOKEN = "xoxb-fake-secret-token"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def client(slack: FakeSlack, **kwargs) -> WebClient:
    return WebClient(token=TOKEN, base_url=slack.api_url, **kwargs)


def test_records_calls_without_the_token(slack: FakeSlack) -> None:
    web = client(slack)
    resp = web.chat_postMessage(channel="C1", text="hi", blocks=[{"type": "divider"}])
    assert resp["ok"] and resp["channel"] == "C1" and resp["ts"]
    web.users_info(user="U1")
    (post,) = slack.calls("chat.postMessage")
    assert post.params["text"] == "hi" and post.params["blocks"] == [{"type": "divider"}]
    assert post.token_sha and TOKEN not in repr(slack.calls())
    assert slack.calls("users.info")[0].params["user"] == "U1"


def test_users_info_answers_programmed_time_zone(slack: FakeSlack) -> None:
    slack.set_user("U2", tz="America/New_York")
    assert client(slack).users_info(user="U2")["user"]["tz"] == "America/New_York"


def test_missing_token_is_not_authed(slack: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as err:
        WebClient(base_url=slack.api_url).auth_test()
    assert err.value.response["error"] == "not_authed"


def test_canned_error_for_one_channel_and_a_number_of_times(slack: FakeSlack) -> None:
    slack.fail("chat.postMessage", "is_archived", channel="C9")
    slack.fail("chat.postMessage", "not_in_channel", times=1)
    web = client(slack)
    with pytest.raises(SlackApiError) as err:
        web.chat_postMessage(channel="C9", text="x")
    assert err.value.response["error"] == "is_archived"
    with pytest.raises(SlackApiError) as err:
        web.chat_postMessage(channel="C1", text="x")
    assert err.value.response["error"] == "not_in_channel"
    assert web.chat_postMessage(channel="C1", text="x")["ok"]
    assert [c.error for c in slack.calls()] == ["is_archived", "not_in_channel", None]


def test_rate_limit_then_retry_handler_succeeds(slack: FakeSlack) -> None:
    slack.rate_limit("chat.postMessage", times=1, retry_after=0)
    web = client(slack, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)])
    assert web.chat_postMessage(channel="C1", text="x")["ok"]
    assert [c.status for c in slack.calls()] == [429, 200]


def test_per_channel_rate_is_enforced_on_the_fake_clock(slack: FakeSlack) -> None:
    now = [100.0]
    slack._clock = lambda: now[0]
    slack.enforce_rates(per_channel=1.0, workspace=(3, 60.0))
    web = client(slack)
    assert web.chat_postMessage(channel="C1", text="a")["ok"]
    with pytest.raises(SlackApiError) as err:
        web.chat_postMessage(channel="C1", text="b")
    assert err.value.response.status_code == 429
    assert err.value.response.headers["Retry-After"] == "1"
    assert web.chat_postMessage(channel="C2", text="c")["ok"]
    now[0] += 1.0
    assert web.chat_postMessage(channel="C1", text="d")["ok"]
    with pytest.raises(SlackApiError) as err:  # 4th in the 60 s workspace window
        web.chat_postMessage(channel="C3", text="e")
    assert int(err.value.response.headers["Retry-After"]) == 59


def test_server_error_status(slack: FakeSlack) -> None:
    slack.server_error("views.publish", times=1)
    web = client(slack)
    with pytest.raises(SlackApiError) as err:
        web.views_publish(user_id="U1", view={"type": "home", "blocks": []})
    assert err.value.response.status_code == 500
    assert web.views_publish(user_id="U1", view={"type": "home", "blocks": []})["ok"]


def test_response_url_is_recorded_and_can_expire(slack: FakeSlack) -> None:
    url = slack.response_url("abc")
    assert WebhookClient(url).send(text="hello").status_code == 200
    slack.fail("response_url", "expired_url", times=1, status=404)
    assert WebhookClient(url).send(text="again").status_code == 404
    calls = slack.wait_for("response_url", 2)
    assert calls[0].params["text"] == "hello" and calls[0].path == "/response/abc"


def test_wait_for_times_out(slack: FakeSlack) -> None:
    with pytest.raises(TimeoutError):
        slack.wait_for("chat.update", timeout=0.05)
