"""OAuth distribution, on SQLite and PostgreSQL, through a real HTTP server and the fake Slack:
install, per-workspace tokens, uninstall, token rotation for the clock, tenant isolation."""

from __future__ import annotations

import datetime as dt
import http.client
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
import yaml
from fakeslack_oauth import OAuthFakeSlack, token_sha
from pg import run_together
from slack_bolt import App
from slack_sdk import WebClient
from slack_signing import FORM, JSON, command_body, event_body, signed_headers
from sqlalchemy import Engine, select

from bot import autolink, home, oauth
from bot.server import wsgi_app
from store import Store, db, subscriptions
from store.errors import ConfigError
from store.models import AutolinkSetting, Delivery, RecentQuery, Subscription
from store.schema import ensure_schema

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "client-secret-for-tests"
STATE_SECRET = "state-secret-for-tests-0123456789"
CFG = oauth.OAuthConfig(CLIENT_ID, CLIENT_SECRET, STATE_SECRET)
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def signed_command(text: str, *, team_id: str, channel_id: str) -> tuple[str, dict[str, str]]:
    body = command_body(
        text, response_url="http://127.0.0.1:9/unused", team_id=team_id, channel_id=channel_id
    )
    return body, signed_headers(SIGNING_SECRET, body, content_type=FORM)


def signed_event(
    event: dict[str, Any], *, team_id: str, event_id: str
) -> tuple[str, dict[str, str]]:
    body = event_body(event, event_id=event_id, team_id=team_id)
    return body, signed_headers(SIGNING_SECRET, body, content_type=JSON)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class Site:
    """The app behind a real HTTP server on 127.0.0.1, and the fake Slack it talks to."""

    port: int
    slack: OAuthFakeSlack
    engine: Engine

    def request(
        self, method: str, path: str, body: str = "", headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(method, path, body=body.encode(), headers=headers or {})
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read().decode()
        finally:
            conn.close()

    def install(self, code: str) -> tuple[int, str]:
        """The browser's part: open the install page, follow Slack back with the code."""
        status, headers, page = self.request("GET", oauth.INSTALL_PATH)
        assert status == 200, page
        state = _state_from(page)
        cookie = headers["set-cookie"].split(";")[0]
        status, _, page = self.request(
            "GET",
            f"{oauth.REDIRECT_PATH}?code={code}&state={quote(state)}",
            headers={"Cookie": cookie},
        )
        return status, page

    def post(self, body: str, headers: dict[str, str]) -> int:
        return self.request("POST", "/slack/events", body, headers)[0]


def _authorize_query(page: str) -> dict[str, list[str]]:
    """The query of the "Add to Slack" link on the install page."""
    match = re.search(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', page)
    assert match, page
    return parse_qs(urlsplit(match.group(1).replace("&amp;", "&")).query)


def _state_from(page: str) -> str:
    return _authorize_query(page)["state"][0]


def _wait(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


@pytest.fixture
def site(database_url: str) -> Iterator[Site]:
    engine = db.get_engine(database_url)
    ensure_schema(engine)
    with OAuthFakeSlack(client_id=CLIENT_ID, client_secret=CLIENT_SECRET) as slack:
        app = App(
            signing_secret=SIGNING_SECRET,
            client=WebClient(base_url=slack.api_url),
            oauth_settings=oauth.oauth_settings(CFG, engine),
        )
        oauth.register_uninstall_listeners(app, engine, CFG)

        @app.command("/chain")
        def chain(ack: Any, client: WebClient, command: dict[str, Any]) -> None:
            ack()
            client.chat_postMessage(channel=command["channel_id"], text="hello")

        server: WSGIServer = make_server(
            "127.0.0.1", 0, wsgi_app(app, Store(engine)), handler_class=_QuietHandler
        )
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        try:
            yield Site(port=server.server_port, slack=slack, engine=engine)
        finally:
            server.shutdown()
            server.server_close()


def _installations(engine: Engine) -> dict[str, str]:
    store = oauth.installation_store(engine, CFG)
    found = {}
    for team in ("TA", "TB", "TR"):
        installation = store.find_installation(enterprise_id=None, team_id=team)
        if installation is not None and installation.bot_token:
            found[team] = installation.bot_token
    return found


def _subscribe(engine: Engine, team_id: str, channel_id: str) -> None:
    with db.session_scope(engine) as session:
        session.add(
            Subscription(
                team_id=team_id,
                channel_id=channel_id,
                weekday=0,
                hour=9,
                minute=0,
                tz="UTC",
                created_by="U1",
            )
        )


def _statuses(engine: Engine) -> dict[str, tuple[str, str | None]]:
    with db.session_scope(engine) as session:
        rows = session.execute(
            select(Subscription.channel_id, Subscription.status, Subscription.paused_reason)
        ).all()
    return {channel: (status, reason) for channel, status, reason in rows}


# --------------------------------------------------------------------------- installing


def test_install_page_asks_for_the_manifest_scopes(site: Site) -> None:
    status, headers, page = site.request("GET", oauth.INSTALL_PATH)
    assert status == 200
    assert "slack-app-oauth-state=" in headers["set-cookie"]
    query = _authorize_query(page)
    assert query["client_id"] == [CLIENT_ID]
    assert query["scope"][0].split(",") == list(oauth.BOT_SCOPES)


def test_install_saves_the_workspace_in_the_database(site: Site) -> None:
    site.slack.add_install("code-a", team_id="TA", bot_token="xoxb-team-a")
    status, page = site.install("code-a")
    assert status == 200, page
    assert _installations(site.engine) == {"TA": "xoxb-team-a"}
    exchange = site.slack.ok_calls("oauth.v2.access")
    assert len(exchange) == 1
    assert "client_secret" not in exchange[0].params  # sent as HTTP basic auth, not logged


def test_a_state_is_single_use(site: Site) -> None:
    site.slack.add_install("code-a", team_id="TA", bot_token="xoxb-team-a")
    _, headers, page = site.request("GET", oauth.INSTALL_PATH)
    state, cookie = _state_from(page), headers["set-cookie"].split(";")[0]
    path = f"{oauth.REDIRECT_PATH}?code=code-a&state={quote(state)}"
    assert site.request("GET", path, headers={"Cookie": cookie})[0] == 200
    site.slack.add_install("code-a", team_id="TA", bot_token="xoxb-again")
    assert site.request("GET", path, headers={"Cookie": cookie})[0] != 200
    assert _installations(site.engine) == {"TA": "xoxb-team-a"}


def test_a_forged_state_is_refused_without_calling_slack(site: Site) -> None:
    site.slack.add_install("code-a", team_id="TA", bot_token="xoxb-team-a")
    _, _, page = site.request("GET", oauth.INSTALL_PATH)
    state = _state_from(page)
    raw, _, signature = state.rpartition(".")
    forged = f"{raw}.{'0' * len(signature)}"
    cookie = f"slack-app-oauth-state={forged}"
    status, _, _ = site.request(
        "GET", f"{oauth.REDIRECT_PATH}?code=code-a&state={forged}", headers={"Cookie": cookie}
    )
    assert status != 200
    assert site.slack.calls("oauth.v2.access") == []
    assert _installations(site.engine) == {}


def test_a_state_from_another_browser_is_refused(site: Site) -> None:
    site.slack.add_install("code-a", team_id="TA", bot_token="xoxb-team-a")
    _, _, page = site.request("GET", oauth.INSTALL_PATH)
    path = f"{oauth.REDIRECT_PATH}?code=code-a&state={quote(_state_from(page))}"
    assert site.request("GET", path)[0] != 200  # no state cookie
    assert _installations(site.engine) == {}


# --------------------------------------------------------------------------- per workspace


def test_each_workspace_is_answered_with_its_own_token(site: Site) -> None:
    site.slack.add_install("code-a", team_id="TA", bot_token="xoxb-team-a")
    site.slack.add_install("code-b", team_id="TB", bot_token="xoxb-team-b")
    assert site.install("code-a")[0] == 200
    assert site.install("code-b")[0] == 200
    for team, channel in (("TA", "CA1"), ("TB", "CB1"), ("TC", "CC1")):
        site.post(*signed_command("hi", team_id=team, channel_id=channel))
    posts = site.slack.wait_for("chat.postMessage", count=2)
    time.sleep(0.2)  # a post for the uninstalled TC would have arrived by now
    by_channel = {c.channel: c.token_sha for c in site.slack.calls("chat.postMessage")}
    assert by_channel == {"CA1": token_sha("xoxb-team-a"), "CB1": token_sha("xoxb-team-b")}
    assert len(posts) == 2


def test_app_uninstalled_removes_the_installation_and_pauses_only_that_team(site: Site) -> None:
    site.slack.add_install("code-a", team_id="TA", bot_token="xoxb-team-a")
    site.slack.add_install("code-b", team_id="TB", bot_token="xoxb-team-b")
    site.install("code-a")
    site.install("code-b")
    for team, channel in (("TA", "CA1"), ("TA", "CA2"), ("TB", "CB1")):
        _subscribe(site.engine, team, channel)

    event = {"type": "app_uninstalled", "event_ts": "1700000000.000100"}
    assert site.post(*signed_event(event, team_id="TA", event_id="EvUninstallA")) == 200
    _wait(lambda: "TA" not in _installations(site.engine))
    _wait(lambda: _statuses(site.engine)["CA2"][0] == "paused")
    assert _installations(site.engine) == {"TB": "xoxb-team-b"}
    assert _statuses(site.engine) == {
        "CA1": ("paused", "app_uninstalled"),
        "CA2": ("paused", "app_uninstalled"),
        "CB1": ("active", None),
    }


def test_tokens_revoked_for_the_bot_pauses_the_team(site: Site) -> None:
    site.slack.add_install("code-b", team_id="TB", bot_token="xoxb-team-b")
    site.install("code-b")
    _subscribe(site.engine, "TB", "CB1")
    event = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBTB"]}}
    assert site.post(*signed_event(event, team_id="TB", event_id="EvRevokeB")) == 200
    _wait(lambda: _statuses(site.engine)["CB1"] == ("paused", "tokens_revoked"))
    assert _installations(site.engine) == {}


def test_tokens_revoked_for_a_user_only_keeps_the_bot(site: Site) -> None:
    site.slack.add_install("code-b", team_id="TB", bot_token="xoxb-team-b")
    site.install("code-b")
    _subscribe(site.engine, "TB", "CB1")
    event = {"type": "tokens_revoked", "tokens": {"oauth": ["UTBADMIN"], "bot": []}}
    assert site.post(*signed_event(event, team_id="TB", event_id="EvRevokeUser")) == 200
    time.sleep(0.3)
    assert _statuses(site.engine) == {"CB1": ("active", None)}


# --------------------------------------------------------------------------- the clock's tokens


def test_token_for_team_refreshes_a_rotating_token_before_it_expires(site: Site) -> None:
    site.slack.add_install("code-r", team_id="TR", bot_token="xoxe.xoxb-first", rotate=60)
    assert site.install("code-r")[0] == 200
    tokens = oauth.TokenSource(site.engine, CFG, api_url=site.slack.api_url)

    fresh = tokens.for_team("TR")
    assert fresh is not None and fresh != "xoxe.xoxb-first"  # 60 s left: refreshed first
    refreshes = [c for c in site.slack.ok_calls("oauth.v2.access") if c.params.get("grant_type")]
    assert len(refreshes) == 1
    assert _installations(site.engine)["TR"] == fresh  # saved for every other process
    assert tokens.for_team("TR") == fresh  # 12 hours left now: no second refresh
    assert len(site.slack.ok_calls("oauth.v2.access")) == 2


REFRESH_CLIENT = """
import sys
from bot import oauth
print("ready", flush=True)
sys.stdin.read()
print(oauth.token_for_team("TR"))
"""


@pytest.mark.postgres
def test_clocks_in_several_processes_refresh_a_token_once(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three processes need TR's expiring token at once: one refreshes it (an advisory lock
    per workspace), the others wait and use the refreshed token."""
    engine = db.get_engine(postgres_url)
    ensure_schema(engine)
    with OAuthFakeSlack(client_id=CLIENT_ID, client_secret=CLIENT_SECRET) as slack:
        slack.add_install("code-r", team_id="TR", bot_token="xoxe.xoxb-first", rotate=60)
        slack.refresh_delay = 0.5
        app = App(
            signing_secret=SIGNING_SECRET,
            client=WebClient(base_url=slack.api_url),
            oauth_settings=oauth.oauth_settings(CFG, engine),
        )
        installed = app.oauth_flow.run_installation("code-r")  # type: ignore[union-attr]
        assert installed is not None
        oauth.installation_store(engine, CFG).save(installed)
        for name, value in {
            "DATABASE_URL": postgres_url,
            "SLACK_API_URL": slack.api_url,
            oauth.CLIENT_ID_ENV: CLIENT_ID,
            oauth.CLIENT_SECRET_ENV: CLIENT_SECRET,
            oauth.STATE_SECRET_ENV: STATE_SECRET,
        }.items():
            monkeypatch.setenv(name, value)
        results = run_together([[sys.executable, "-c", REFRESH_CLIENT] for _ in range(3)])
        refreshes = [c for c in slack.calls("oauth.v2.access") if c.params.get("grant_type")]
    assert [code for code, _, _ in results] == [0, 0, 0], [err for _, _, err in results]
    tokens = {out.strip() for _, out, _ in results}
    assert len(refreshes) == 1
    assert len(tokens) == 1 and tokens != {"xoxe.xoxb-first"}


def test_token_for_team_is_none_after_uninstall(site: Site) -> None:
    site.slack.add_install("code-a", team_id="TA", bot_token="xoxb-team-a")
    site.install("code-a")
    tokens = oauth.TokenSource(site.engine, CFG, api_url=site.slack.api_url)
    assert tokens.for_team("TA") == "xoxb-team-a"
    store = oauth.installation_store(site.engine, CFG)
    oauth.forget_workspace(site.engine, store, team_id="TA", enterprise_id=None, reason="x")
    assert tokens.for_team("TA") is None
    assert tokens.for_team("TZ") is None


def test_token_for_team_reads_the_environment(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    site.slack.add_install("code-a", team_id="TA", bot_token="xoxb-team-a")
    site.install("code-a")
    monkeypatch.setenv("DATABASE_URL", str(site.engine.url.render_as_string(False)))
    monkeypatch.setenv("SLACK_API_URL", site.slack.api_url)
    monkeypatch.setenv(oauth.CLIENT_ID_ENV, CLIENT_ID)
    monkeypatch.setenv(oauth.CLIENT_SECRET_ENV, CLIENT_SECRET)
    monkeypatch.setenv(oauth.STATE_SECRET_ENV, STATE_SECRET)
    assert oauth.token_for_team("TA") == "xoxb-team-a"
    assert oauth.token_for_team("TB") is None


def test_the_clock_posts_with_each_workspaces_own_token(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    site.slack.add_install("code-a", team_id="TA", bot_token="xoxb-team-a")
    site.slack.add_install("code-r", team_id="TR", bot_token="xoxe.xoxb-first", rotate=60)
    site.install("code-a")
    site.install("code-r")
    monkeypatch.setenv(oauth.CLIENT_ID_ENV, CLIENT_ID)
    monkeypatch.setenv(oauth.CLIENT_SECRET_ENV, CLIENT_SECRET)
    monkeypatch.setenv(oauth.STATE_SECRET_ENV, STATE_SECRET)
    factory = oauth.clock_client_factory(site.engine, site.slack.api_url)
    factory("TA").chat_postMessage(channel="CA1", text="digest")
    factory("TR").chat_postMessage(channel="CR1", text="digest")
    posts = {c.channel: c.token_sha for c in site.slack.ok_calls("chat.postMessage")}
    assert posts["CA1"] == token_sha("xoxb-team-a")
    assert posts["CR1"] == token_sha(_installations(site.engine)["TR"])  # refreshed first
    assert posts["CR1"] != token_sha("xoxe.xoxb-first")


def test_chainbot_clock_picks_each_workspaces_token_in_oauth_mode(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What `chainbot clock` and `serve --with-clock` build from the environment: no bot
    token and no signing secret needed, each workspace posted to with its own token."""
    from bot import clock
    from bot import config as slack_config

    site.slack.add_install("code-a", team_id="TA", bot_token="xoxb-team-a")
    site.install("code-a")
    monkeypatch.setenv("SLACK_API_URL", site.slack.api_url)
    monkeypatch.setenv(oauth.CLIENT_ID_ENV, CLIENT_ID)
    monkeypatch.setenv(oauth.CLIENT_SECRET_ENV, CLIENT_SECRET)
    monkeypatch.setenv(oauth.STATE_SECRET_ENV, STATE_SECRET)
    factory = clock.client_factory(slack_config.load("clock"), site.engine)
    factory("TA").chat_postMessage(channel="CA1", text="digest")
    (post,) = site.slack.ok_calls("chat.postMessage")
    assert post.token_sha == token_sha("xoxb-team-a")


def test_chainbot_clock_in_one_workspace_needs_only_the_bot_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot import config as slack_config

    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-single")
    cfg = slack_config.load("clock")
    assert cfg.oauth is None and cfg.bot_token == "xoxb-single"
    monkeypatch.delenv("SLACK_BOT_TOKEN")
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN"):
        slack_config.load("clock")


def test_single_workspace_mode_uses_the_bot_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-single")
    assert oauth.load() is None
    assert oauth.token_for_team("TANY") == "xoxb-single"


# --------------------------------------------------------------------------- configuration


def test_oauth_variables_go_together(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(oauth.CLIENT_ID_ENV, CLIENT_ID)
    with pytest.raises(ConfigError, match="SLACK_CLIENT_SECRET is not set"):
        oauth.load()
    monkeypatch.setenv(oauth.CLIENT_SECRET_ENV, CLIENT_SECRET)
    with pytest.raises(ConfigError, match="SLACK_STATE_SECRET is not set"):
        oauth.load()
    monkeypatch.setenv(oauth.STATE_SECRET_ENV, "short")
    with pytest.raises(ConfigError, match="at least 16"):
        oauth.load()
    monkeypatch.setenv(oauth.STATE_SECRET_ENV, STATE_SECRET)
    cfg = oauth.load()
    assert cfg == CFG
    assert CLIENT_SECRET not in repr(cfg) and STATE_SECRET not in repr(cfg)


def test_malformed_client_id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(oauth.CLIENT_ID_ENV, "not-an-id")
    monkeypatch.setenv(oauth.CLIENT_SECRET_ENV, CLIENT_SECRET)
    monkeypatch.setenv(oauth.STATE_SECRET_ENV, STATE_SECRET)
    with pytest.raises(ConfigError, match="SLACK_CLIENT_ID is malformed"):
        oauth.load()


def test_bot_scopes_match_the_manifest() -> None:
    manifest = yaml.safe_load((Path(__file__).parent.parent / "manifest.yml").read_text())
    assert tuple(manifest["oauth_config"]["scopes"]["bot"]) == oauth.BOT_SCOPES


# --------------------------------------------------------------------------- tenant isolation


def test_one_workspace_cannot_read_or_change_anothers_data(database_url: str) -> None:
    """Everything a request can reach is keyed by its team: TA naming TB's channel gets
    nothing and changes nothing."""
    engine = db.get_engine(database_url)
    ensure_schema(engine)
    _subscribe(engine, "TB", "CB1")
    autolink.set_enabled(engine, "TB", "CB1", True, "UB1")
    home.record_query(engine, "TB", "U1", "city:qingdao")
    with db.session_scope(engine) as session:
        sub_id = session.scalar(select(Subscription.id).where(Subscription.team_id == "TB"))
        session.add(
            Delivery(
                subscription_id=sub_id,
                team_id="TB",
                channel_id="CB1",
                week_start=dt.date(2026, 11, 16),
                status="sent",
                claimed_by="clock",
            )
        )

    # Workspace A asks about and acts on B's channel and user ids.
    assert subscriptions.list_for_team(engine, team_id="TA") == []
    assert subscriptions.get_for_channel(engine, team_id="TA", channel_id="CB1") is None
    assert subscriptions.unsubscribe(engine, team_id="TA", channel_id="CB1") is False
    assert subscriptions.deliveries_for_team(engine, team_id="TA") == []
    assert subscriptions.pause_team(engine, team_id="TA", reason="x") == 0
    assert autolink.is_enabled(engine, "TA", "CB1") is False
    autolink.set_enabled(engine, "TA", "CB1", False, "UA1")
    assert home.recent_entities(engine, "TA", "U1") == []

    # B's data is as it was.
    assert [s.channel_id for s in subscriptions.list_for_team(engine, team_id="TB")] == ["CB1"]
    assert _statuses(engine) == {"CB1": ("active", None)}
    assert autolink.is_enabled(engine, "TB", "CB1") is True
    assert len(subscriptions.deliveries_for_team(engine, team_id="TB")) == 1
    with db.session_scope(engine) as session:
        assert session.scalar(select(RecentQuery.team_id)) == "TB"
        settings = session.execute(
            select(AutolinkSetting.team_id, AutolinkSetting.enabled).order_by(
                AutolinkSetting.team_id
            )
        ).all()
    assert settings == [("TA", False), ("TB", True)]
