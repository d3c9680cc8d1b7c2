"""Web API clients that survive Slack's bad moments.

slack_sdk only retries connection errors by default. Chain Bot also waits out HTTP 429 for the
``Retry-After`` Slack states (``RateLimitErrorRetryHandler``) and retries a 5xx once
(``ServerErrorRetryHandler``). Both the bot's ``WebClient`` and the ``WebhookClient`` used for
``response_url`` get the same handlers.
"""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.webhook import WebhookClient

from bot.config import DEFAULT_API_URL

RATE_LIMIT_RETRIES = 3
SERVER_ERROR_RETRIES = 1
TIMEOUT_SECONDS = 10
ACK_TIMEOUT_SECONDS = 1.5


def retry_handlers() -> list[RetryHandler]:
    return [
        ConnectionErrorRetryHandler(max_retry_count=1),
        RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
        ServerErrorRetryHandler(max_retry_count=SERVER_ERROR_RETRIES),
    ]


def make_client(token: str | None, base_url: str = DEFAULT_API_URL) -> WebClient:
    """A ``WebClient`` for ``base_url`` (``SLACK_API_URL``) with Chain Bot's retry policy."""
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=TIMEOUT_SECONDS,
        retry_handlers=retry_handlers(),
    )


def make_ack_client(token: str | None, base_url: str = DEFAULT_API_URL) -> WebClient:
    """For calls made before a slash command is acknowledged (e.g. ``users.info`` for the
    subscriber's time zone): Slack gives the ack 3 seconds, so no waiting out a 429 and a
    short timeout; the caller falls back when it fails."""
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=ACK_TIMEOUT_SECONDS,
        retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=1)],
    )


def make_webhook(url: str) -> WebhookClient:
    """A client for one ``response_url`` with the same retry policy."""
    return WebhookClient(url, timeout=TIMEOUT_SECONDS, retry_handlers=retry_handlers())
