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
from sqlalchemy.exc import SQLAlchemyError

from store.errors import ConfigError, StoreError

COMMAND_MODULES = (
    "bot.cli_store",
    "bot.cli_ingest",
    "bot.cli_slack",
    "bot.cli_digest",
    "bot.cli_clock",
    "bot.cli_admin",
)


class OneLineCommand(click.Command):
    """A bad flag or a missing argument is said in one line, like every other error (click's
    default takes three)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            click.echo(f"{ctx.command_path}: {exc.format_message()} (see --help)", err=True)
            ctx.exit(2)


class StderrProgress:
    """Draws ``progress(stage, done, total)`` on stderr: one line rewritten in place on a
    terminal, a line per stage otherwise (so logs stay short)."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.stage: str | None = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        count = f" {done}/{total}" if total else ""
        if self.tty:
            click.echo(f"\r\033[K  {stage}{count}", err=True, nl=False)
        elif stage != self.stage:
            click.echo(f"  {stage}{count}", err=True)
        self.stage = stage

    def finish(self) -> None:
        if self.tty and self.stage is not None:
            click.echo("", err=True)


class ChainbotGroup(click.Group):
    """Turns the errors a person can act on into one line and an exit code, no traceback."""

    command_class = OneLineCommand

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            click.echo(f"chainbot: {exc}", err=True)
            sys.exit(2)
        except StoreError as exc:
            click.echo(f"chainbot: {exc}", err=True)
            sys.exit(1)
        except SQLAlchemyError as exc:
            # A safety net: the statement and its parameters (article text, perhaps a URL with
            # a password) stay out of the message; only the driver's first line is shown.
            orig = getattr(exc, "orig", None)
            reason = str(orig).splitlines()[0] if orig is not None and str(orig) else ""
            click.echo(f"chainbot: database error: {reason or type(exc).__name__}", err=True)
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
