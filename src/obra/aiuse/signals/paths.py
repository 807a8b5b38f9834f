"""RFC 9309 path patterns, shared by every signal that scopes a statement to paths.

robots.txt ``Allow``/``Disallow`` and ``Content-Usage`` (AIPREF attach), tdmrep.json ``location``
and RSL ``<content url>`` all match a URL path against a pattern the way RFC 9309 §2.2.2–2.2.3
says: from the first octet, case-sensitive, ``*`` for any run of octets, a final ``$`` for the
end of the path, and both sides percent-encoding-normalised first so that ``/%7Euser`` and
``/~user`` are the same path. How matches are *chosen* differs per standard (robots.txt takes
the longest, TDMRep the first in array order), so this module only says whether a pattern
matches and how long the match is; the choice stays with each reader.

Normalisation (RFC 9309 §2.2.2), applied to patterns and paths alike:

* ``%XX`` of an unreserved character (RFC 3986 §2.3: ``A-Z a-z 0-9 - . _ ~``) is decoded;
* every other ``%XX`` is kept, with its hex digits in upper case (``%2f`` → ``%2F``: an encoded
  reserved character is not the character, ``/a%2Fb`` is not ``/a/b``);
* octets outside printable ASCII (controls, space, DEL, and every non-ASCII octet of the UTF-8
  encoding) are percent-encoded, so a raw ``/café`` and an encoded ``/caf%C3%A9`` are equal;
* a ``%`` not followed by two hex digits is itself encoded (``%25``), identically on both sides;
* in a *path*, the pattern's special characters are encoded (``*`` → ``%2A``, ``$`` → ``%24``), so
  the pattern ``/foo-%24`` matches the URL ``/foo-$`` (RFC 9309 §2.2.3, figure 6); in a *pattern*
  ``*`` is the wildcard, a final ``$`` the anchor and any other ``$`` a literal (``%24``).

RFC 9309's figure 4 also shows ``:`` and ``/`` inside a query value encoded
(``?baz=https%3A%2F%2Ffoo.bar``); which reserved characters that applies to is not defined, and
neither Google's parser nor protego does it, so reserved characters are compared as written.

The length used for "most specific" is the number of octets of the normalised pattern,
including ``*`` and ``$`` (as Google's reference parser and protego count it).
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urlsplit

__all__ = ["normalize", "normalize_path", "normalize_pattern", "pattern_matches", "match_length", "path_of"]

_HEX = frozenset(b"0123456789abcdefABCDEF")
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PLAIN = re.compile(r"[!-$&-~]*").fullmatch   # printable ASCII without "%": already normal


@lru_cache(maxsize=65536)
def normalize(text: str) -> str:
    """``text`` (a path, or a pattern) with its percent-encoding normalised as RFC 9309 requires.

    Why both sides: the RFC asks that equivalent spellings compare equal; normalising the
    pattern and the path with the same function is the one reading under which that holds
    however either side was written.
    """
    if _PLAIN(text):
        return text
    raw = text.encode("utf-8", "surrogatepass")
    out: list[str] = []
    i, n = 0, len(raw)
    while i < n:
        b = raw[i]
        if b == 0x25:  # "%"
            if i + 2 < n and raw[i + 1] in _HEX and raw[i + 2] in _HEX:
                value = int(raw[i + 1:i + 3], 16)
                out.append(chr(value) if value in _UNRESERVED else "%" + raw[i + 1:i + 3].decode().upper())
                i += 3
                continue
            out.append("%25")
        elif b <= 0x20 or b >= 0x7F:
            out.append(f"%{b:02X}")
        else:
            out.append(chr(b))
        i += 1
    return "".join(out)


@lru_cache(maxsize=65536)
def normalize_path(path: str) -> str:
    """A URL path (and query) ready to compare: :func:`normalize`, then ``*`` and ``$`` encoded."""
    norm = normalize(path)
    if "*" in norm or "$" in norm:
        norm = norm.replace("*", "%2A").replace("$", "%24")
    return norm


def normalize_pattern(pattern: str) -> str:
    """A rule's path pattern ready to compare: :func:`normalize`, a ``$`` other than the last
    one encoded (only a final ``$`` anchors)."""
    norm = normalize(pattern)
    anchored = norm.endswith("$")
    body = norm[:-1] if anchored else norm
    if "$" in body:
        body = body.replace("$", "%24")
    return body + "$" if anchored else body


@lru_cache(maxsize=16384)
def _compiled(pattern: str) -> tuple[str, re.Pattern[str] | None, bool]:
    """The normalised pattern, and a regex when it holds ``*`` (else plain prefix or equality)."""
    norm = normalize_pattern(pattern)
    anchored = norm.endswith("$")
    body = norm[:-1] if anchored else norm
    if "*" not in body:
        return norm, None, anchored
    regex = ".*".join(re.escape(part) for part in re.split(r"\*+", body))
    return norm, re.compile(regex + (r"\Z" if anchored else ""), re.DOTALL), anchored


def match_length(pattern: str, path: str) -> int | None:
    """How many octets of ``pattern`` matched ``path`` (its normalised length), or None.

    Why a length and not a bool: robots.txt and AIPREF pick the longest matching rule, so
    callers need the specificity; an empty pattern matches every path with length 0 (an
    ``Content-Usage`` rule without a path applies to all; robots.txt callers skip empty
    ``Allow``/``Disallow`` values themselves, as RFC 9309 has them match nothing).
    """
    norm, regex, anchored = _compiled(pattern)
    target = normalize_path(path)
    if regex is not None:
        ok = regex.match(target) is not None
    elif anchored:
        ok = target == norm[:-1]
    else:
        ok = target.startswith(norm)
    return len(norm) if ok else None


def pattern_matches(pattern: str, path: str) -> bool:
    """Whether ``pattern`` matches ``path`` under RFC 9309 (``*``, final ``$``, normalised)."""
    return match_length(pattern, path) is not None


def path_of(url: str) -> str:
    """The part of ``url`` rules match against: the path and the query (``/`` when empty).

    Accepts a full URL or a path; the scheme, authority and fragment are dropped, since no
    robots.txt-style rule matches against them.
    """
    if url.startswith("/"):  # a path (even "//a": callers pass paths or absolute URLs)
        path, _, _fragment = url.partition("#")
        return path
    try:
        parts = urlsplit(url)
    except ValueError:
        return "/"
    path = parts.path or "/"
    if not path.startswith("/"):
        path = "/" + path
    before_fragment = url.partition("#")[0]
    if "?" in before_fragment:
        path += "?" + parts.query
    return path


def split_path_prefix(value: str) -> tuple[str | None, str]:
    """A robots.txt rule value that may start with a path (AIPREF ``Content-Usage``, and
    ``Content-Signal`` read the same way) → (path or None, the rest). The path ends at the first
    space or tab (draft-ietf-aipref-attach)."""
    if value.startswith("/"):
        for i, ch in enumerate(value):
            if ch in " \t":
                return value[:i], value[i:].lstrip(" \t")
        return value, ""
    return None, value


def longest_path_records(records, path: str) -> list:
    """Of robots.txt records whose value may start with a path (``Content-Usage``,
    ``Content-Signal``), those whose path matches ``path`` with the most octets (RFC 9309
    longest match; no path matches every path with length 0). Ties are all kept, in order."""
    best: list = []
    best_length = -1
    for record in records:
        rule_path, _rest = split_path_prefix(record.value)
        n = match_length(rule_path or "", path)
        if n is None or n < best_length:
            continue
        if n > best_length:
            best, best_length = [], n
        best.append(record)
    return best

