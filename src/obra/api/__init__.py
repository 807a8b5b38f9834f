"""The REST API (FastAPI): routes translate HTTP into core calls, nothing more."""
