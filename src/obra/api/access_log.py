"""The server's access log never holds a secret sent in a URL.

Tokens belong in ``Authorization: Bearer``; a client that sends one as ``?token=`` is refused
(the API reads no token from the query), but the server's access log would still write the
URL down. :class:`RedactSecrets`, installed on the ``uvicorn.access`` logger by
:func:`obra.api.app.create_app`, replaces the value of every query parameter named like a
secret with ``[redacted]`` before any handler sees the record.
"""

from __future__ import annotations

import logging
from urllib.parse import unquote_plus

SECRET_PARAMETERS = frozenset({"token", "access_token", "id_token", "refresh_token", "key", "api_key", "apikey",
                               "password", "secret", "client_secret"})
REDACTED = "[redacted]"
ACCESS_LOGGER = "uvicorn.access"


def redact(target: str) -> str:
    """``target`` (a path with its query) with the values of secret parameters replaced."""
    path, sep, query = target.partition("?")
    if not sep:
        return target
    pairs = []
    for pair in query.split("&"):
        name, eq, _value = pair.partition("=")
        if unquote_plus(name).strip().lower() in SECRET_PARAMETERS:
            pairs.append(f"{name}={REDACTED}")
        else:
            pairs.append(pair)
    return f"{path}?{'&'.join(pairs)}"


class RedactSecrets(logging.Filter):
    """Redacts secret query values in access-log records (uvicorn's arguments: client, method,
    path with query, HTTP version, status) and in any other string argument that holds a URL."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(redact(a) if isinstance(a, str) and "?" in a else a for a in record.args)
        if isinstance(record.msg, str) and "?" in record.msg and not record.args:
            record.msg = redact(record.msg)
        return True


def install(logger_name: str = ACCESS_LOGGER) -> None:
    """Add the filter once to ``logger_name`` (the server's access logger)."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, RedactSecrets) for f in logger.filters):
        logger.addFilter(RedactSecrets())


__all__ = ["REDACTED", "RedactSecrets", "SECRET_PARAMETERS", "install", "redact"]
