"""Extraction: articles in, fact-store rows out, all in memory (``store.build`` writes them).

Modules, in pipeline order: ``source`` (seed metadata and ingested articles),
``segment`` (passages with offsets and headings), ``catalog`` (entities, aliases, the
name matcher), ``rules`` (name patterns), ``dates``, ``numbers``, ``curation``
(``seeds/curation.yml``) and ``pipeline`` (the whole run, ``EXTRACTOR_VERSION``).
"""
