"""Rendering store answers: ``text`` for the CLI and fallbacks, ``blocks`` for Slack.

Both read the same ``store.answers`` objects, so the CLI prints what Slack would show.
"""
