"""Every path under ``OBRA_HOME``, named in one place.

The database (SQLite by default) holds records; the home directory holds what is better
as files: the office's signing keys, the local admin's credentials, the Parquet usage
datasets, and each distribution run's statements. Nothing else in Obra joins path
segments under the home: it asks :class:`StorePaths`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StorePaths:
    """The layout of one store's home directory."""

    home: Path

    @property
    def database(self) -> Path:
        """The embedded SQLite database (when no ``OBRA_DATABASE_URL`` is set)."""
        return self.home / "obra.db"

    @property
    def credentials(self) -> Path:
        """The local admin's token, written by ``obra init`` (mode 0600)."""
        return self.home / "credentials.json"

    def keys(self, office: str) -> Path:
        """An office's Ed25519 signing keys and their published history (unless ``OBRA_KEYS_DIR`` puts
        them elsewhere: ask ``Store.keys_directory``)."""
        return self.home / "keys" / office

    @property
    def usage(self) -> Path:
        """Usage lines, Parquet partitioned by period and source."""
        return self.home / "usage"

    @property
    def pools(self) -> Path:
        """Money pools, Parquet partitioned by period and source."""
        return self.home / "pools"

    @property
    def matches(self) -> Path:
        """Match results per usage line, Parquet partitioned like usage."""
        return self.home / "matches"

    @property
    def ingest_manifest(self) -> Path:
        """The accepted usage sources, by file digest (what makes re-ingest change nothing)."""
        return self.home / "ingest-manifest.json"

    @property
    def ingest_lock(self) -> Path:
        """One ingest at a time per store."""
        return self.home / "ingest.lock"

    @property
    def staging(self) -> Path:
        """Where an ingest writes before it publishes, all or nothing."""
        return self.home / ".staging"

    @property
    def royalties(self) -> Path:
        """Distribution runs: one directory per run, never overwritten."""
        return self.home / "royalties"

    def run(self, run_id: int) -> Path:
        """The directory of distribution run ``run_id`` (statements, totals, balances, report)."""
        return self.royalties / "runs" / f"run-{run_id:06d}"

    @property
    def incoming(self) -> Path:
        """Split incoming statements (one directory per split)."""
        return self.home / "incoming"

    @property
    def certificates(self) -> Path:
        return self.home / "certificates"

    @property
    def reports(self) -> Path:
        return self.home / "reports"
