"""``chainbot``: the command line. It mirrors the library: each command is a thin call into
``store`` (or ``bot``) and a renderer.

Commands live in small modules by area and register themselves on ``main``:
``bot.cli_store`` (chain, build, stats), ``bot.cli_ingest`` (ingest), ``bot.cli_slack``
(serve), ``bot.cli_digest`` (digest), ``bot.cli_clock`` (clock), ``bot.cli_admin`` (migrate).
"""

from __future__ import annotations

import importlib
import logging
import sys
from typing import Any

import click

from store.errors import ConfigError, StoreError

COMMAND_MODULES = (
    "bot.cli_store",
    "bot.cli_ingest",
    "bot.cli_slack",
    "bot.cli_digest",
    "bot.cli_clock",
    "bot.cli_admin",
)


class ChainbotGroup(click.Group):
    """Turns the errors a person can act on into one line and an exit code, no traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            click.echo(f"chainbot: {exc}", err=True)
            sys.exit(2)
        except StoreError as exc:
            click.echo(f"chainbot: {exc}", err=True)
            sys.exit(1)


@click.group(cls=ChainbotGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log more (never secrets).")
def main(verbose: bool) -> None:
    """Chain Bot: China's blockchain industry, cited, from the command line and Slack."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )


def _register() -> None:
    for name in COMMAND_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            # Only a missing command module is tolerated; a missing dependency is a real error.
            if exc.name != name:
                raise


_register()
