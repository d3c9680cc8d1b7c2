"""Bringing a database to the current schema."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from store.errors import StoreError
from store.models import Base


def ensure_schema(engine: Engine) -> None:
    """Create any missing table. Idempotent and safe at start-up."""
    try:
        Base.metadata.create_all(engine)
    except OperationalError as exc:
        reason = str(exc.orig).splitlines()[0] if exc.orig else "unknown error"
        raise StoreError(f"cannot open the database: {reason}") from None
