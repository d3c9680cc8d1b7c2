"""Errors the store raises with a message fit to show a person as is (one line, no secrets)."""


class StoreError(Exception):
    """Something the user can act on: an unreadable database, an unwritable path, a bad file."""


class ConfigError(StoreError):
    """A missing or malformed setting; the message names the variable, never its value."""
