"""Matching usage lines to registered recordings and works.

Two stages, each recording *how* a line was matched and *how sure* we are:

1. **Identifiers** (:mod:`.identifiers`, :func:`~.identifiers.match_by_id`), written once as
   Ibis expressions so the same code runs on DuckDB and on Spark: the line's ISRC against
   recordings (``isrc``, score 1.0; the recording's first embodied work comes along), else its
   ISWC against works (``iswc``, 1.0), else its proprietary id against Obra registration
   numbers of works or recordings (``proprietary``, 1.0). An identifier held by several
   registrations goes to the lowest registration number, deterministically.
2. **Metadata** (:mod:`.metadata`, :func:`~.metadata.fuzzy_match`) for the lines still
   unmatched: the distinct (title, artist, album, duration) combinations are scored once each
   against the recordings whose normalised titles are nearest (rapidfuzz candidate search,
   then the documented scoring model). A ``match`` decision gives method ``fuzzy`` with its
   score; ``review`` and ``no-match`` leave the line ``none`` (with the best score kept) for
   the claims queue.

Claims (:mod:`.claims`) are applied last: a claimed group's lines become ``claim`` matches
with score 1.0. :mod:`.run` is a matching run over the usage datasets (all three stages per
partition, the matches dataset written).
"""
