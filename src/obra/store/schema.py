"""The registry's tables (SQLAlchemy Core). Other capabilities add theirs on the same ``metadata``.

History is never overwritten: every registration event appends a row to
``registrations`` (number, version); only the ``is_current`` flag of the previous version
moves. Normalised side tables (titles, shares, contributors, links) index the current and
past versions for search and for the royalty engines.
"""

from __future__ import annotations

from sqlalchemy import (JSON, BigInteger, Boolean, Column, Date, DateTime, ForeignKey, Index, Integer, MetaData,
                        Numeric, String, Table, Text, UniqueConstraint)

metadata = MetaData()

parties = Table(
    "parties", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(20), nullable=False),
    Column("name", String(300), nullable=False),
    Column("name_norm", String(300), nullable=False, index=True),
    Column("roles", JSON, nullable=False),
    Column("ipi", String(11), unique=True),
    Column("ipi_base", String(13)),
    Column("isni", String(16), index=True),
    Column("country", String(3)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(100), nullable=False),
)

party_identifiers = Table(
    # A submitter's own number for a party (CWR Interested Party #, scheme ``cwr:<sender>``).
    # One (scheme, value) names one party; a party may carry several (one per submitter, or
    # a submitter that renumbered it). See obra.registry.parties.find_or_insert_party.
    "party_identifiers", metadata,
    Column("party_id", Integer, ForeignKey("parties.id"), nullable=False, index=True),
    Column("scheme", String(60), nullable=False),
    Column("value", String(60), nullable=False),
    UniqueConstraint("scheme", "value", name="uq_party_identifiers_scheme_value"),
)

registrations = Table(
    "registrations", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("number", String(32), nullable=False),  # looked up by uq_registration_version (number, version)
    Column("version", Integer, nullable=False),
    Column("entity", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("is_current", Boolean, nullable=False),  # ix_registrations_current_entity (is_current, entity)
    Column("kind", String(16)),
    Column("title", String(500), nullable=False),
    Column("title_norm", String(500), nullable=False),  # indexed by the search's migrations (0010, 0018)
    Column("iswc", String(11)),  # indexed where present (below)
    Column("isrc", String(12)),
    Column("creation_mode", String(16), nullable=False),
    Column("record", JSON, nullable=False),
    Column("record_hash", String(64), nullable=False),
    Column("registrant", String(100), nullable=False),
    Column("reason", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("log_index", Integer),
    UniqueConstraint("number", "version", name="uq_registration_version"),
)

titles = Table(
    "titles", metadata,
    Column("registration_id", Integer, ForeignKey("registrations.id"), nullable=False, index=True),
    Column("title", String(500), nullable=False),
    Column("title_norm", String(500), nullable=False),  # indexed by the search's migrations (0010, 0016)
)

shares = Table(
    "shares", metadata,
    Column("registration_id", Integer, ForeignKey("registrations.id"), nullable=False, index=True),
    Column("party_id", Integer, ForeignKey("parties.id"), nullable=False, index=True),
    Column("role", String(32)),
    Column("right_type", String(32), nullable=False),
    Column("territory", String(4), nullable=False),
    Column("share", Numeric(7, 4), nullable=False),
)

contributors = Table(
    "contributors", metadata,
    Column("registration_id", Integer, ForeignKey("registrations.id"), nullable=False, index=True),
    Column("party_id", Integer, ForeignKey("parties.id"), nullable=False, index=True),
    Column("role", String(32), nullable=False),
)

work_identifiers = Table(
    "work_identifiers", metadata,
    Column("registration_id", Integer, ForeignKey("registrations.id"), nullable=False, index=True),
    Column("scheme", String(60), nullable=False),
    Column("value", String(60), nullable=False),
    Index("ix_work_identifiers_scheme_value", "scheme", "value"),
)

recording_works = Table(
    "recording_works", metadata,
    Column("registration_id", Integer, ForeignKey("registrations.id"), nullable=False, index=True),
    Column("work_number", String(32), nullable=False, index=True),
)

agreements = Table(
    "agreements", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("assignor_id", Integer, ForeignKey("parties.id"), nullable=False, index=True),
    Column("assignee_id", Integer, ForeignKey("parties.id"), nullable=False, index=True),
    Column("start", Date, nullable=False),
    Column("end", Date),
    Column("record", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(100), nullable=False),
)

principals = Table(
    "principals", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("role", String(32), nullable=False),
    Column("party_id", Integer, ForeignKey("parties.id")),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("active", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

sequences = Table(
    "sequences", metadata,
    Column("office", String(8), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("next_value", Integer, nullable=False),
)

Index("ix_registrations_current_entity", registrations.c.is_current, registrations.c.entity)
# a work has no ISRC and a recording no ISWC: only the identifiers present are indexed (migration 0019)
for _column in (registrations.c.iswc, registrations.c.isrc):
    Index(f"ix_registrations_{_column.name}", _column, postgresql_where=_column.isnot(None),
          sqlite_where=_column.isnot(None))

# --------------------------------------------------------------------------------------
# The journal (migration 0007): every state change, each anchored in the transparency log
# --------------------------------------------------------------------------------------

journal_events = Table(
    "journal_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("office", String(8), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("at", String(27), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("record_hash", String(64), nullable=False),
    Column("log_index", BigInteger),
    Index("ix_journal_events_kind_subject", "kind", "subject"),
)

distribution_runs = Table(
    "distribution_runs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(20), nullable=False),  # distribution | incoming
    Column("period", String(20), nullable=False),
    Column("model", String(40), nullable=False),
    Column("engine", String(20), nullable=False),
    Column("directory", String(500), nullable=False),
    Column("law_version", String(64)),
    Column("totals_hash", String(64)),
    Column("statements_hash", String(64)),
    Column("superseded_by", Integer),
    Column("journal_id", Integer, ForeignKey("journal_events.id")),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(100), nullable=False),
    Index("ix_distribution_runs_period_model", "kind", "period", "model"),
)

claims = Table(
    "claims", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_id", String(64), nullable=False, index=True),
    Column("group_key", Text, nullable=False),  # normalised title + artist: the latest claim on a key wins
    Column("title", String(500)),
    Column("artist", String(500)),
    Column("recording_number", String(32)),
    Column("work_number", String(32)),
    Column("claimant", String(100), nullable=False),
    Column("party_id", Integer),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("journal_id", Integer, ForeignKey("journal_events.id")),
)

# --------------------------------------------------------------------------------------
# Ingested files (migration 0008): what makes ingest idempotent and publication atomic
# --------------------------------------------------------------------------------------

usage_sources = Table(
    # One row per file accepted by ingest: a usage report (DSR, CSV: its partitions are in the
    # usage/pools datasets under ``source``) or a CWR repertoire file. ``identity`` is what the file
    # *is* (DSR: sender, recipient, MessageId, file number; CSV: its records; CWR: sender and
    # creation time), so the same report re-sent gzipped, with other line ends or under another
    # name finds its row. The engines read only the partitions of ``published`` sources; a row is
    # written in the same transaction as its ``usage.ingested`` journal event, which is what
    # publishes it. A corrected re-delivery sets the earlier row ``superseded``.
    "usage_sources", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(16), nullable=False, unique=True),
    Column("kind", String(8), nullable=False),  # dsr | csv | cwr
    Column("identity_hash", String(64), nullable=False, unique=True),
    Column("identity", JSON, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("sha256", String(64), nullable=False, index=True),  # the bytes of the file first accepted
    Column("file", String(255), nullable=False),
    Column("scope", JSON, nullable=False),  # DSR: sender, recipient, period, slices; what supersession compares
    Column("periods", JSON, nullable=False),
    Column("counts", JSON, nullable=False),
    Column("summary", JSON, nullable=False),
    Column("status", String(12), nullable=False, index=True),  # published | superseded
    Column("superseded_by", Integer),
    Column("journal_id", Integer, ForeignKey("journal_events.id")),
    Column("created_by", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# --------------------------------------------------------------------------------------
# AI-use terms (migration 0009): every version stated, never edited (obra.aiuse.service)
# --------------------------------------------------------------------------------------

ai_terms = Table(
    # subject_kind: work | recording (subject = registration number), party (subject = party id),
    # location (subject = origin + RFC 9309 path pattern). ``terms`` is the AITerms JSON whose RFC
    # 8785 hash is ``terms_hash``; ``journal_event_id`` is the aiuse.terms.set event proving when.
    "ai_terms", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subject_kind", String(10), nullable=False),
    Column("subject", String(180), nullable=False),
    Column("version", Integer, nullable=False),
    Column("terms", JSON, nullable=False),
    Column("terms_hash", String(64), nullable=False),
    Column("party_id", Integer, ForeignKey("parties.id"), index=True),
    Column("set_by", String(100), nullable=False),
    Column("set_at", DateTime(timezone=True), nullable=False),
    Column("journal_event_id", Integer, ForeignKey("journal_events.id"), nullable=False),
    UniqueConstraint("subject_kind", "subject", "version", name="uq_ai_terms_subject_version"),
)

# --------------------------------------------------------------------------------------
# AI licences (migration 0011): quotes, signed licences and their items, licence-server tokens,
# licence income (fees, usage reports, paid fetches), disclosures, consents (obra.aiuse.licensing)
# --------------------------------------------------------------------------------------

ai_quotes = Table(
    # A priced manifest: the question and totals here, every item in a Parquet file under the home
    # (``items_file``, its SHA-256 ``items_sha256``). Accepting it makes one licence.
    "ai_quotes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("quote_id", String(24), nullable=False, unique=True),
    Column("requested_by", String(100), nullable=False, index=True),
    Column("question", JSON, nullable=False),
    Column("summary", JSON, nullable=False),
    Column("items_file", String(255), nullable=False),
    Column("items_sha256", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("licence_id", String(24)),
    Column("journal_event_id", Integer, ForeignKey("journal_events.id"), nullable=False),
)

ai_licences = Table(
    # A signed licence (``document``: RFC 8785 JSON signed by the office key) over exactly the
    # items whose Merkle root it states. ``status``: active | revoked (expiry is read from the dates).
    "ai_licences", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("licence_id", String(24), nullable=False, unique=True),
    Column("quote_id", String(24), nullable=False, unique=True),
    Column("licensee", String(100), nullable=False, index=True),
    Column("document", JSON, nullable=False),
    Column("document_sha256", String(64), nullable=False),
    Column("merkle_root", String(64), nullable=False),
    Column("item_count", Integer, nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_until", Date, nullable=False),
    Column("status", String(12), nullable=False),
    Column("client_secret_hash", String(64), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Column("revoked_reason", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("journal_event_id", Integer, ForeignKey("journal_events.id"), nullable=False),
)

ai_licence_items = Table(
    # The licence's items in Merkle leaf order (``position``): what the training check and the
    # licence server look up, and what usage reports are held against.
    "ai_licence_items", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("licence_id", String(24), ForeignKey("ai_licences.licence_id"), nullable=False, index=True),
    Column("position", Integer, nullable=False),
    Column("number", String(32), nullable=False, index=True),
    Column("url", Text),
    Column("sha256", String(64), index=True),
    Column("model", String(16), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3)),
    Column("unit_minor", BigInteger),
    Column("share_percent", String(16)),
    UniqueConstraint("licence_id", "position", name="uq_ai_licence_items_position"),
)

ai_licence_tokens = Table(
    # RSL licence-server (OLP) access tokens; only their SHA-256 is kept, like principals' tokens.
    "ai_licence_tokens", metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("licence_id", String(24), ForeignKey("ai_licences.licence_id"), nullable=False, index=True),
    Column("resource", Text),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

ai_licence_income = Table(
    # Money a licence brings per work: the fee at acceptance, a usage report's lines, a paid fetch.
    # ``status``: pending (not yet distributed) | held (outside the licence: never paid silently) |
    # distributed (``run_id`` is the royalty run that paid it).
    "ai_licence_income", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("licence_id", String(24), ForeignKey("ai_licences.licence_id"), nullable=False, index=True),
    Column("source", String(40), nullable=False),
    Column("line", Integer),
    Column("number", String(32)),
    Column("url", Text),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("period", String(10), nullable=False),
    Column("status", String(12), nullable=False, index=True),
    Column("reason", Text),
    Column("run_id", Integer),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("journal_event_id", Integer, ForeignKey("journal_events.id")),
)

ai_usage_reports = Table(
    # An AI developer's usage report under a licence; the same file again is found by its hash.
    "ai_usage_reports", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("report_id", String(24), nullable=False, unique=True),
    Column("licence_id", String(24), ForeignKey("ai_licences.licence_id"), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("file", String(255), nullable=False),
    Column("summary", JSON, nullable=False),
    Column("submitted_by", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("journal_event_id", Integer, ForeignKey("journal_events.id"), nullable=False),
    UniqueConstraint("licence_id", "sha256", name="uq_ai_usage_reports_file"),
)

ai_disclosures = Table(
    # An AI provider's public summary of training content (EU AI Office template) and its cross-check.
    "ai_disclosures", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("disclosure_id", String(24), nullable=False, unique=True),
    Column("provider", String(300), nullable=False),
    Column("model", String(300), nullable=False),
    Column("document", JSON, nullable=False),
    Column("sha256", String(64), nullable=False, unique=True),
    Column("submitted_by", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("journal_event_id", Integer, ForeignKey("journal_events.id"), nullable=False),
)

ai_consents = Table(
    # A performer's voice and likeness consent record, every version kept (signed, each a journal
    # event); only references and hashes, never biometric data.
    "ai_consents", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("consent_id", String(24), nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("party_id", Integer, ForeignKey("parties.id"), nullable=False, index=True),
    Column("record", JSON, nullable=False),
    Column("signed", JSON, nullable=False),
    Column("status", String(12), nullable=False),
    Column("created_by", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("journal_event_id", Integer, ForeignKey("journal_events.id"), nullable=False),
    UniqueConstraint("consent_id", "version", name="uq_ai_consents_version"),
)

# --------------------------------------------------------------------------------------
# Web portal (migration 0014): signed-in sessions and failed sign-ins (obra.web.sessions)
# --------------------------------------------------------------------------------------

web_sessions = Table(
    # One row per signed-in browser. The cookie holds a random token; only its SHA-256 is kept
    # (``token_hash``), like principals' tokens. ``csrf`` is the session's form token; a session ends
    # when idle past its time, at ``expires_at`` whatever happens, or at sign-out (the row is deleted).
    "web_sessions", metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("principal_id", Integer, ForeignKey("principals.id"), nullable=False, index=True),
    Column("csrf", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

web_login_failures = Table(
    # A failed sign-in, counted per client address and per name over a window (login rate limiting).
    "web_login_failures", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
)

# --------------------------------------------------------------------------------------
# Fairness (migration 0012, issue #16): contract terms the renegotiation check needs, and the
# letters and transparency reports issued (obra.fairness)
# --------------------------------------------------------------------------------------

agreement_terms = Table(
    # What an agreement's own record does not say and a fairness check needs: the law governing
    # it, a lump sum paid instead of (or besides) royalties, and the share of revenue that would
    # be appropriate pay (a collective agreement, a tariff). One row per agreement, replaced when
    # restated; each statement is a fairness.terms_set journal event.
    "agreement_terms", metadata,
    Column("agreement_id", Integer, ForeignKey("agreements.id"), primary_key=True),
    Column("jurisdiction", String(8)),
    Column("lump_sum_minor", BigInteger),
    Column("currency", String(3)),
    Column("appropriate_share", String(24)),
    Column("note", Text),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(100), nullable=False),
)

fairness_documents = Table(
    # Every letter, transparency report and renegotiation check issued: addressed to one creator
    # (party_id; None for a catalogue batch), kept under ``directory``, its SHA-256, and the journal
    # event that anchors it.
    "fairness_documents", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(24), nullable=False),  # check | letter | report | reports
    Column("party_id", Integer, ForeignKey("parties.id"), index=True),
    Column("subject", String(200), nullable=False),
    Column("year", Integer),
    Column("sha256", String(64), nullable=False),
    Column("directory", String(500), nullable=False),
    Column("journal_id", Integer, ForeignKey("journal_events.id")),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(100), nullable=False),
)
