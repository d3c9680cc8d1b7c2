"""The database schema, in SQLAlchemy 2.0 declarative style.

Two families of tables share one database:

* **Fact tables** (``FACT_TABLES``) are derived from the articles. ``chainbot build`` replaces
  their whole content in one transaction; nothing else writes them.
* **App tables** hold what people did: subscriptions, delivery history, ingested articles,
  autolink settings, seen events, recent queries. A rebuild never touches them, and they refer
  to entities by their stable ``slug`` (never by a fact-table id, which a rebuild renumbers).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    # Named constraints, so that migrations can alter them on every dialect (SQLite's batch
    # mode and PostgreSQL both need the name).
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


# --------------------------------------------------------------------------- fact tables


class Document(Base):
    """One article, seed or ingested, with its full text (quotes are offsets into it)."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    filename: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(Text)
    short_title: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(200))
    author: Mapped[str | None] = mapped_column(String(200))
    published: Mapped[dt.date] = mapped_column(Date)
    # "day" | "month" | "year": how exactly the text pins the publication date.
    published_precision: Mapped[str] = mapped_column(String(8))
    origin: Mapped[str] = mapped_column(String(16))  # "seed" | "ingested"
    # When `chainbot ingest` added it (None for seeds): the digest's "new since last digest".
    ingested_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    sha256: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    # Where the article proper ends (blog boilerplate after it is not mined).
    body_end: Mapped[int] = mapped_column(Integer)
    is_roundup: Mapped[bool] = mapped_column(Boolean, default=False)

    passages: Mapped[list[Passage]] = relationship(back_populates="document")


class Passage(Base):
    """A sentence of a document, with character offsets and the headings above it."""

    __tablename__ = "passages"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    paragraph: Mapped[int] = mapped_column(Integer)  # index of the paragraph in the document
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    # "heading" | "title" (a roundup item's bold title) | "sentence"
    kind: Mapped[str] = mapped_column(String(16))
    section: Mapped[str | None] = mapped_column(String(200))  # roundup section or timeline year
    item_title: Mapped[str | None] = mapped_column(Text)  # roundup item this sentence belongs to

    document: Mapped[Document] = relationship(back_populates="passages")

    __table_args__ = (Index("ix_passages_document", "document_id", "start"),)


class Entity(Base):
    """A city, province, district, region, policy, project, event, company, institution or
    person. Places from the gazetteer exist even when no article names them."""

    __tablename__ = "entities"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(160), unique=True)  # e.g. "city:qingdao"
    kind: Mapped[str] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(300))
    name_zh: Mapped[str | None] = mapped_column(String(100))
    summary: Mapped[str | None] = mapped_column(Text)
    # Where the entity came from: "gazetteer" | "rules" | "curation"
    origin: Mapped[str] = mapped_column(String(16))
    fact_count: Mapped[int] = mapped_column(Integer, default=0)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("entities.id"))
    # Free-form extras, e.g. {"confusable_with": ["province:qinghai"], "population": 123}.
    attrs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    aliases: Mapped[list[Alias]] = relationship(back_populates="entity")


class Alias(Base):
    """A name people may type: English spellings, compact forms, Chinese, old romanisations,
    and garbles the articles contain."""

    __tablename__ = "aliases"

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"))
    alias: Mapped[str] = mapped_column(String(300))
    key: Mapped[str] = mapped_column(String(300), index=True)  # store.textnorm.compact_key
    # "name" | "english" | "chinese" | "romanisation" | "abbreviation" | "garble" | "variant"
    kind: Mapped[str] = mapped_column(String(16))

    entity: Mapped[Entity] = relationship(back_populates="aliases")

    __table_args__ = (UniqueConstraint("entity_id", "key", name="uq_alias_entity_key"),)


class Fact(Base):
    """A short statement about one or more entities, quoting its sentence verbatim."""

    __tablename__ = "facts"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    passage_id: Mapped[int] = mapped_column(ForeignKey("passages.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    quote: Mapped[str] = mapped_column(Text)  # == document.text[start:end]
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    date: Mapped[dt.date | None] = mapped_column(Date, index=True)
    date_precision: Mapped[str | None] = mapped_column(String(8))  # "year" | "month" | "day"
    # "event" (it happened) | "figure" (a figure as of the date) | "target" | "statement"
    kind: Mapped[str] = mapped_column(String(12))
    # [{"value": 1.78e6, "unit": "yuan", "text": "1.78 million yuan"}, ...]
    numbers: Mapped[list[Any]] = mapped_column(JSON, default=list)
    section: Mapped[str | None] = mapped_column(String(200))  # digest section, when known
    title: Mapped[str | None] = mapped_column(Text)  # roundup item title, when any

    document: Mapped[Document] = relationship()
    passage: Mapped[Passage] = relationship()
    mentions: Mapped[list[Mention]] = relationship(back_populates="fact")


class Mention(Base):
    """An entity named in a fact, and how the text literally wrote it."""

    __tablename__ = "mentions"

    id: Mapped[int] = mapped_column(primary_key=True)
    fact_id: Mapped[int] = mapped_column(ForeignKey("facts.id", ondelete="CASCADE"))
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(12))  # "subject" | "mention"
    literal: Mapped[str] = mapped_column(String(300))  # e.g. "Qinghai" where Qingdao is meant

    fact: Mapped[Fact] = relationship(back_populates="mentions")
    entity: Mapped[Entity] = relationship()

    __table_args__ = (
        UniqueConstraint("fact_id", "entity_id", name="uq_mention_fact_entity"),
        Index("ix_mentions_entity", "entity_id"),
    )


class Link(Base):
    """A typed relation between entities: a policy's issuer, a project's city, ..."""

    __tablename__ = "links"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"))
    target_id: Mapped[int] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"))
    # "issued_by" | "located_in" | "part_of" | "member_of" | "operates" | "related"
    relation: Mapped[str] = mapped_column(String(16))
    fact_id: Mapped[int | None] = mapped_column(ForeignKey("facts.id", ondelete="CASCADE"))

    __table_args__ = (
        UniqueConstraint("source_id", "target_id", "relation", name="uq_link"),
        Index("ix_links_target", "target_id"),
    )


class StoreMeta(Base):
    """Key/value facts about the current build (generation, seeds hash, built_at)."""

    __tablename__ = "store_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


# Order matters: children first, so deleting in this order never trips a foreign key.
FACT_TABLES = [
    Link.__table__,
    Mention.__table__,
    Fact.__table__,
    Passage.__table__,
    Alias.__table__,
    Entity.__table__,
    Document.__table__,
    StoreMeta.__table__,
]


# --------------------------------------------------------------------------- app tables


class IngestedDocument(Base):
    """An article added with ``chainbot ingest``: an input of every later build."""

    __tablename__ = "ingested_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    raw: Mapped[str] = mapped_column(Text)  # the file as given (header and body)
    ingested_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Subscription(Base):
    """A channel's weekly digest. Keyed by team: no workspace sees another's."""

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    weekday: Mapped[int] = mapped_column(Integer)  # 0 = Monday
    hour: Mapped[int] = mapped_column(Integer)
    minute: Mapped[int] = mapped_column(Integer)
    tz: Mapped[str] = mapped_column(String(64))
    skip_empty: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(12), default="active")  # active|paused
    paused_reason: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (UniqueConstraint("team_id", "channel_id", name="uq_subscription_channel"),)


class Delivery(Base):
    """One digest for one subscription and week. The unique constraint is the exactly-once
    guarantee: a clock claims the row by inserting it, and only the winner posts."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"))
    team_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    week_start: Mapped[dt.date] = mapped_column(Date)
    # claimed | sent | skipped | failed
    status: Mapped[str] = mapped_column(String(12))
    claimed_by: Mapped[str] = mapped_column(String(64))
    claimed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    scheduled_for: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    message_ts: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(String(200))
    item_count: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (UniqueConstraint("subscription_id", "week_start", name="uq_delivery_week"),)


class AutolinkSetting(Base):
    __tablename__ = "autolink_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_by: Mapped[str] = mapped_column(String(32))
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (UniqueConstraint("team_id", "channel_id", name="uq_autolink_channel"),)


class AutolinkPost(Base):
    """At most one automatic reply per entity per channel per day, enforced by the database."""

    __tablename__ = "autolink_posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    entity_slug: Mapped[str] = mapped_column(String(160))
    day: Mapped[dt.date] = mapped_column(Date)

    __table_args__ = (
        UniqueConstraint("team_id", "channel_id", "entity_slug", "day", name="uq_autolink_day"),
    )


class EventReceipt(Base):
    """Events Slack may redeliver: the first insert wins, a retry finds the row and stops."""

    __tablename__ = "event_receipts"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    team_id: Mapped[str | None] = mapped_column(String(32))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RecentQuery(Base):
    """Entities a user asked about, for the App Home's "recently asked"."""

    __tablename__ = "recent_queries"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    entity_slug: Mapped[str] = mapped_column(String(160))
    asked_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (Index("ix_recent_queries_team_user", "team_id", "user_id", "asked_at"),)


APP_TABLES = [
    IngestedDocument.__table__,
    Subscription.__table__,
    Delivery.__table__,
    AutolinkSetting.__table__,
    AutolinkPost.__table__,
    EventReceipt.__table__,
    RecentQuery.__table__,
]
