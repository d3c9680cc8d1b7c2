"""``FakeSlack`` plus what the OAuth flow needs: ``oauth.v2.access`` (code exchange and token
refresh, with client credentials checked) and ``auth.test`` answering for the workspace a
token belongs to.

    with OAuthFakeSlack(client_id="1.2", client_secret="s") as slack:
        slack.add_install("code-a", team_id="TA", bot_token="xoxb-a")
        slack.add_install("code-r", team_id="TR", bot_token="xoxe.xoxb-r", rotate=60)
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import time
from dataclasses import dataclass
from typing import Any

from fakeslack import Call, FakeSlack

APP_ID = "A0CHAINBOT"
SCOPES = "commands,chat:write,app_mentions:read,channels:history,users:read"


def token_sha(token: str) -> str:
    """What ``Call.token_sha`` records for a token."""
    return hashlib.sha256(token.encode()).hexdigest()[:12]


@dataclass
class _Install:
    team_id: str
    team_name: str
    bot_token: str
    refresh_token: str | None
    expires_in: int | None


class OAuthFakeSlack(FakeSlack):
    def __init__(self, *, client_id: str, client_secret: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.client_id = client_id
        self.client_secret = client_secret
        self._codes: dict[str, _Install] = {}
        self._refresh: dict[str, _Install] = {}
        self._token_team: dict[str, str] = {}
        self._serial = itertools.count(1)
        # Seconds a token refresh takes: widens the window in which two refreshers overlap.
        self.refresh_delay = 0.0

    def add_install(
        self,
        code: str,
        *,
        team_id: str,
        bot_token: str,
        team_name: str | None = None,
        rotate: int | None = None,
    ) -> None:
        """A one-time ``code`` that installs the app into ``team_id``. ``rotate`` (seconds):
        token rotation on, the token expiring that soon."""
        install = _Install(
            team_id=team_id,
            team_name=team_name or f"Team {team_id}",
            bot_token=bot_token,
            refresh_token=f"xoxe-1-refresh-{team_id}" if rotate is not None else None,
            expires_in=rotate,
        )
        with self._lock:
            self._codes[code] = install
            self._token_team[bot_token] = team_id
            if install.refresh_token:
                self._refresh[install.refresh_token] = install

    def _handle(
        self, method: str, path: str, params: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        if method != "oauth.v2.access":
            return super()._handle(method, path, params, headers)
        auth = headers.pop("Authorization", None) or headers.pop("authorization", None)
        client_id, client_secret = params.pop("client_id", None), params.pop("client_secret", None)
        if auth and auth.lower().startswith("basic "):
            client_id, _, client_secret = base64.b64decode(auth[6:]).decode().partition(":")
        if params.get("grant_type") == "refresh_token":
            time.sleep(self.refresh_delay)
        with self._lock:
            now = self._clock()
            body = self._exchange(params, client_id, client_secret)
            error = None if body["ok"] else str(body["error"])
            self._calls.append(
                Call(method, params, headers, None, 200, error, now, time.time(), path)
            )
            self._lock.notify_all()
        return 200, {}, body

    def _exchange(
        self, params: dict[str, Any], client_id: str | None, client_secret: str | None
    ) -> dict[str, Any]:
        if client_id != self.client_id:
            return {"ok": False, "error": "invalid_client_id"}
        if client_secret != self.client_secret:
            return {"ok": False, "error": "bad_client_secret"}
        if params.get("grant_type") == "refresh_token":
            install = self._refresh.get(str(params.get("refresh_token")))
            if install is None:
                return {"ok": False, "error": "invalid_refresh_token"}
            token = f"xoxe.xoxb-{install.team_id}-{next(self._serial)}"
            self._token_team[token] = install.team_id
            return {
                "ok": True,
                "access_token": token,
                "token_type": "bot",
                "refresh_token": install.refresh_token,
                "expires_in": 43200,
                "team": {"id": install.team_id, "name": install.team_name},
                "enterprise": None,
                "is_enterprise_install": False,
            }
        install = self._codes.pop(str(params.get("code")), None)
        if install is None:
            return {"ok": False, "error": "invalid_code"}
        body: dict[str, Any] = {
            "ok": True,
            "access_token": install.bot_token,
            "token_type": "bot",
            "scope": SCOPES,
            "bot_user_id": f"UB{install.team_id}",
            "app_id": APP_ID,
            "team": {"id": install.team_id, "name": install.team_name},
            "enterprise": None,
            "is_enterprise_install": False,
            "authed_user": {"id": f"U{install.team_id}ADMIN"},
        }
        if install.refresh_token:
            body.update(refresh_token=install.refresh_token, expires_in=install.expires_in)
        return body

    def _answer(
        self, method: str, params: dict[str, Any], token: str | None, now: float
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        status, headers, body = super()._answer(method, params, token, now)
        if method == "auth.test" and body.get("ok") and token in self._token_team:
            team = self._token_team[token]
            body.update(team_id=team, bot_id=f"B{team}", user_id=f"UB{team}")
        return status, headers, body
