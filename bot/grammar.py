"""The words of the ``/chain`` grammar, shared by Slack (``bot.dispatch``) and the CLI
(``chainbot chain``, ``bot.cli_store``) so both read a query the same way and say the same
thing when it is incomplete. No Slack and no rendering here."""

from __future__ import annotations

import re

_VS = re.compile(r"\s+(?:vs\.?|versus)\s+", re.IGNORECASE)

# What each subcommand says when its argument is missing or wrong (mrkdwn: escape first).
COMPARE_WHAT = "Compare what? Try `/chain compare <a> vs <b>`."
LIST_WHAT = "List what? Try `/chain list cities`, provinces, policies, projects or companies."
TIMELINE_WHAT = "Timeline of what? Try `/chain timeline <name>`."


def compare_sides(text: str) -> tuple[str, str] | None:
    """``Qingdao vs Chongqing`` -> ("Qingdao", "Chongqing"); None unless exactly two named
    sides."""
    parts = [part.strip() for part in _VS.split(text)]
    if len(parts) != 2 or not all(parts):
        return None
    return parts[0], parts[1]
