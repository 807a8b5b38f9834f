"""Storage: SQLite by default, PostgreSQL in server mode, the same schema and tests for both."""

from obra.store.database import Store
from obra.store.settings import Settings

__all__ = ["Settings", "Store"]
