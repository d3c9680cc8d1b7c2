"""Articles as the extractor sees them: the seed files described by ``seeds/metadata.yml``,
and articles people add with ``chainbot ingest`` (plain text or Markdown with a short header).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from store.errors import StoreError

MAX_ARTICLE_BYTES = 2 * 1024 * 1024
_HEADER_KEYS = ("title", "source", "author", "date")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)
_HEADER_LINE = re.compile(r"^(title|source|author|date)\s*:\s*(.*?)\s*$", re.I)
_SLUG_CHARS = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class SourceDocument:
    """One article's text and metadata. ``body_start``/``body_end`` bound the part that is
    mined: the header lines before and the blog boilerplate after are kept but not mined."""

    slug: str
    filename: str
    title: str
    short_title: str
    source: str
    author: str | None
    published: dt.date
    precision: str  # "day" | "month" | "year"
    origin: str  # "seed" | "ingested"
    sha256: str
    text: str
    body_start: int
    body_end: int
    is_roundup: bool = False
    ingested_at: dt.datetime | None = None


def sha256_hex(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def slugify(text: str, limit: int = 60) -> str:
    """Lowercase words joined by hyphens, cut at a word boundary within ``limit``."""
    slug = _SLUG_CHARS.sub("-", text.casefold()).strip("-")
    if len(slug) > limit:
        cut = slug[: limit + 1]
        slug = cut[: cut.rfind("-")] if "-" in cut else slug[:limit]
    return slug.rstrip("-") or "untitled"


def parse_date(value: Any) -> tuple[dt.date, str]:
    """A date as written in a header: ``2019-12-19`` or ``December 19, 2019`` (day),
    ``2019-12`` or ``December 2019`` (month), ``2019`` (year); with its precision."""
    if isinstance(value, dt.datetime):
        return value.date(), "day"
    if isinstance(value, dt.date):
        return value, "day"
    text = str(value).strip()
    iso = re.match(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?(?:[T ][\d:.+Z-]*)?$", text)
    try:
        if iso:
            year, month, day = iso.groups()
            precision = "day" if day else "month" if month else "year"
            return dt.date(int(year), int(month or 1), int(day or 1)), precision
        for fmt, precision in _WORDY_FORMATS:
            try:
                return dt.datetime.strptime(text, fmt).date(), precision
            except ValueError:
                continue
    except ValueError:
        pass
    raise StoreError(f"not a date (expected e.g. 2020-03-31 or March 31, 2020): {text[:40]!r}")


_WORDY_FORMATS = (
    ("%B %d, %Y", "day"),
    ("%d %B %Y", "day"),
    ("%A, %B %d, %Y", "day"),
    ("%B %Y", "month"),
)


def _header_end(text: str) -> int:
    """Offset just after the leading lines that describe the article rather than tell it:
    the title, ``Source:``/``Author:`` lines and bare dates."""
    pos = 0
    seen_title = False
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        is_meta = bool(
            re.match(r"^(source|author|editor)\s*:", stripped, re.I)
            or re.match(r"^\d{4}-\d{2}-\d{2}\b", stripped)
            or re.match(
                r"^(monday|tuesday|wednesday|thursday|friday|saturday|sunday),", stripped, re.I
            )
        )
        if not stripped or is_meta:
            pos += len(line)
            continue
        if not seen_title:
            seen_title = True
            pos += len(line)
            continue
        break
    return pos


def _body_end(text: str, marker: str | None) -> int:
    if not marker:
        return len(text)
    match = re.search(rf"^{re.escape(marker)}", text, re.M)
    if match is None:
        raise StoreError(f"body_end marker {marker!r} is not in the text")
    return match.start()


def load_seed_documents(seeds: Path) -> list[SourceDocument]:
    """The seed articles, in ``metadata.yml`` order."""
    meta = yaml.safe_load((seeds / "metadata.yml").read_text("utf-8"))
    docs = []
    for entry in meta["documents"]:
        raw = (seeds / entry["file"]).read_bytes()
        text = raw.decode("utf-8")
        published, _ = parse_date(entry["published"])
        docs.append(
            SourceDocument(
                slug=entry["slug"],
                filename=entry["file"],
                title=entry["title"],
                short_title=entry.get("short_title") or entry["title"][:200],
                source=entry["source"],
                author=entry.get("author"),
                published=published,
                precision=entry.get("precision", "day"),
                origin="seed",
                sha256=sha256_hex(raw),
                text=text,
                body_start=_header_end(text),
                body_end=_body_end(text, entry.get("body_end")),
                is_roundup=bool(entry.get("roundup", False)),
            )
        )
    return docs


def read_article_file(path: Path) -> bytes:
    """The bytes of a file to ingest, refusing big files before reading them."""
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise StoreError(f"{path}: not a file")
        if size > MAX_ARTICLE_BYTES:
            raise StoreError(f"{path.name}: too large ({size:,} bytes; the limit is 2 MB)")
        with path.open("rb") as handle:
            return handle.read(MAX_ARTICLE_BYTES + 1)
    except OSError as exc:
        raise StoreError(f"{path}: cannot read ({exc.strerror})") from None


def _split_header(text: str) -> tuple[dict[str, str], str, int]:
    """Header fields, and where the body starts. Accepts YAML front matter or leading
    ``Title:``/``Source:``/``Author:``/``Date:`` lines."""
    match = _FRONT_MATTER.match(text)
    if match:
        try:
            data = yaml.safe_load(match.group(1)) or {}
        except yaml.YAMLError:
            raise StoreError("the front matter is not valid YAML") from None
        if not isinstance(data, dict):
            raise StoreError("the front matter must be key: value lines")
        fields = {str(k).lower(): str(v) for k, v in data.items() if v is not None}
        if isinstance(data.get("date"), dt.date):
            fields["date"] = data["date"].isoformat()
        return fields, text[match.end() :], match.end()
    fields: dict[str, str] = {}
    pos = 0
    for line in text.splitlines(keepends=True):
        header = _HEADER_LINE.match(line.strip())
        if header and header.group(1).lower() not in fields:
            fields[header.group(1).lower()] = header.group(2)
            pos += len(line)
        elif not line.strip() and fields:
            pos += len(line)
        else:
            break
    return fields, text[pos:], pos


MAX_HEADER_FIELD = 200


def parse_article(
    raw: bytes, filename: str, *, ingested_at: dt.datetime | None = None
) -> SourceDocument:
    """An ingested article, validated: UTF-8, at most 2 MB, a dated header and a body.

    Raises ``StoreError`` with a one-line reason naming the file.
    """
    name = Path(filename).name
    if len(raw) > MAX_ARTICLE_BYTES:
        raise StoreError(f"{name}: too large (more than 2 MB)")
    if not raw.strip():
        raise StoreError(f"{name}: the file is empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StoreError(f"{name}: not UTF-8 text (bad byte at offset {exc.start})") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\x00" in text:
        raise StoreError(f"{name}: binary data, not an article")
    text = text.replace("\r\n", "\n")
    try:
        fields, body, body_start = _split_header(text)
    except StoreError as exc:
        raise StoreError(f"{name}: {exc}") from None
    if not fields.get("date"):
        raise StoreError(f"{name}: no date (add a 'Date: YYYY-MM-DD' line or front matter)")
    try:
        published, precision = parse_date(fields["date"])
    except StoreError as exc:
        raise StoreError(f"{name}: {exc}") from None
    if sum(ch.isalpha() for ch in body) < 20:
        raise StoreError(f"{name}: no article body after the header")
    for key in ("source", "author"):
        # The columns hold 200 characters; PostgreSQL enforces that, so say it here.
        if len(fields.get(key) or "") > MAX_HEADER_FIELD:
            raise StoreError(
                f"{name}: the {key} is too long (at most {MAX_HEADER_FIELD} characters)"
            )
    title = fields.get("title") or next(
        (line.strip().lstrip("#").strip() for line in body.splitlines() if line.strip()), name
    )
    sha = sha256_hex(raw)
    return SourceDocument(
        slug=f"ingested-{published.isoformat()}-{slugify(title, 40)}-{sha[:8]}",
        filename=name,
        title=title,
        short_title=title[:200],
        source=fields.get("source") or "ingested article",
        author=fields.get("author"),
        published=published,
        precision=precision,
        origin="ingested",
        sha256=sha,
        text=text,
        body_start=body_start,
        body_end=len(text),
        ingested_at=ingested_at,
    )
