"""Readers of the industry's report formats: bytes in, validated records out.

Each reader parses a file once, at the edge, and either refuses it whole with every problem
located by file, line and field (:class:`obra.errors.InvalidInput`) or hands over the records
of :mod:`obra.royalties.records`. Readers know nothing of the store or the datasets (that is
:mod:`obra.royalties.ingest`), and the imports run one way:

* :mod:`.text` — opening a report (plain or gzipped, UTF-8), shared by every reader;
* :mod:`.dsr_spec` — what the DDEX DSR flat-file specification says (record types, cell types);
* :mod:`.dsr_reference` — the row-by-row DSR checker, the executable definition of a valid file;
* :mod:`.dsr_fast` — the vectorised DSR reader (ingest's), which defers to the reference;
* :mod:`.usage_csv` — Obra's usage and pools CSV formats;
* :mod:`.cwr` — CISAC CWR repertoire files (works and parties, for the registry).
"""
