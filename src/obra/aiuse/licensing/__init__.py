"""AI licences that pay authors (issue #15): offers, quotes, signed licences, a licence server,
usage reports into royalties, training-data disclosures, and voice and likeness consent.

* :mod:`.quote` — offers read from the rightholders' AI-use terms; a manifest priced exactly, item
  by item (integer minor units), on DuckDB, with the per-item loop it is checked against;
* :mod:`.licence` — the signed licence document, the Merkle tree over its items (RFC 9162 hashing),
  per-item inclusion proofs, offline verification;
* :mod:`.server` — the RSL licence server: OLP tokens (OAuth 2.0 client credentials, RFC 7662
  introspection), CAP answers (401/402/403 with ``WWW-Authenticate: License`` and
  ``Link rel="license"``), HTTP 402 pay-per-crawl with the price headers;
* :mod:`.usage` — AI developers' usage reports read and priced against the licence, lines outside
  it held;
* :mod:`.disclosure` — the EU AI Office public summary of training content, validated and
  cross-checked against the registry and the terms;
* :mod:`.consent` — voice and likeness consent records, the check, the takedown bundle;
* :mod:`.service` — the one service joining the store, the journal and access
  (``Obra.ai_licences``).
"""
