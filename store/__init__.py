"""Chain Bot's fact store: articles in, cited answers out. Knows nothing of Slack."""

from store.api import Stats, Store
from store.errors import ConfigError, StoreError

__all__ = ["ConfigError", "Stats", "Store", "StoreError"]
