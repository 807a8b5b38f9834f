"""Royalties: usage reports in (DDEX DSR, CWR repertoire, CSV), matched to the registry.

Ingest parses each file once at the edge (``dsr``, ``cwr``, ``usage_csv``) and refuses a
file whole with every problem located by file, line and field; ``usage_store`` keeps the
accepted usage as Parquet partitioned by period and source; ``matching`` links usage lines
to recordings and works (exact identifiers first, then scored metadata); ``claims`` is the
queue where rightholders claim what could not be matched with confidence.
"""
