"""CAWG training-and-data-mining assertions in C2PA manifests: read from media files, and written
into signed copies of them (c2pa-python).

**The assertion** (CAWG ``cawg.training-mining`` 1.1, DIF ratified 16 May 2025; research note §6)::

    {"entries": {"cawg.ai_generative_training": {"use": "notAllowed"},
                 "cawg.data_mining": {"use": "constrained", "constraint_info": "…"}},
     "metadata": {…}}

Keys (:data:`obra.aiuse.vocabulary.TOKENS` ``["cawg"]``): ``cawg.data_mining`` (mining, OCR
included), ``cawg.ai_inference`` (input to a model), ``cawg.ai_generative_training``,
``cawg.ai_training`` (**non-generative** models only). ``use`` is ``allowed``, ``notAllowed`` or
``constrained``; custom keys may be added, the ``cawg.`` prefix is reserved. Also read, and
marked as what they are: CAWG 1.0 maps (the same entries with no ``entries`` wrapper) and C2PA
1.x's ``c2pa.training-mining`` with ``c2pa.*`` keys (removed in C2PA 2.0). Only 1.1 is written.

**How it is read** (:func:`read_media`, :func:`read_manifest_store`), from the *active*
manifest only (ingredients' manifests describe ingredients, not this asset):

* ``allowed`` → allowed; ``notAllowed`` → not allowed.
* ``constrained`` → **not allowed**: "in the absence of additional information, constrained shall
  be treated as equivalent to notAllowed", and the constraint is free text Obra cannot evaluate;
  it is kept in ``extra["constraint_info"]``. The CDDL spells the field ``constraint_info``, the
  prose ``constraints_info``: both are accepted.
* Any other ``use`` value → unknown, with a problem naming the entry.
* A CAWG key the assertion does not mention → unknown ("no statement"); a custom key (no
  ``cawg.``/``c2pa.`` prefix) is recorded in :attr:`CawgResult.entries` and mapped to no use; an
  undefined ``cawg.*`` key is recorded with a problem (the prefix is reserved).
* Several training-mining assertions in one manifest: each is read; for a use they disagree on,
  the most restrictive reading wins and the rule says so.
* The manifest's **validation** is on every signal (``extra["validation"]``): ``trusted`` (the
  signer chains to a trust anchor given to the reader), ``untrusted-signer`` (intact, but the
  signer is not on a trust list: ``signingCredential.untrusted``), ``valid`` (intact, trust not
  evaluated) or ``invalid`` (the file or manifest was changed after signing, or the signature is
  bad). An invalid manifest's entries are recorded and marked, and read asymmetrically: a
  reservation (``notAllowed``/``constrained``) still reads not allowed — a rightholder's
  reservation does not stop counting because someone damaged the file — but an ``allowed``
  reads *unknown*: a permission nobody can attribute grants nothing.
* A file with no manifest → no signals (status ``no-manifest``), not an error; a manifest without
  a training-mining assertion → no signals either. A damaged or unsupported file → status
  ``unreadable``/``unsupported`` with a named :class:`~obra.errors.Problem`, never an exception; a
  manifest stored remotely is reported (``remote``) and never fetched.
* ``digitalSourceType`` of the active manifest's ``c2pa.actions``/``c2pa.actions.v2`` actions (e.g.
  ``…/digitalsourcetype/trainedAlgorithmicMedia``) is reported in
  :attr:`CawgResult.digital_source_types`, and those of the parent ingredients' manifests,
  marked as such.

**Writing** (:func:`sign_media`): a signed copy of a media file whose new manifest carries the
terms as a ``cawg.training-mining`` 1.1 assertion (:func:`training_mining_assertion`): each CAWG
key written from the use it covers — allowed → ``allowed``, not allowed → ``notAllowed``, allowed
under licence → ``constrained`` with a ``constraint_info`` naming the licence (price model, prior
consent, the terms' URL, the contact); a use the terms do not state (for the unscoped question:
yes/no signals cannot carry territory or purpose scopes) is not written. For works made with AI
(``mode``), a ``c2pa.actions`` assertion with ``c2pa.created`` and ``digitalSourceType``
``http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia`` (AI-generated) or
``…/compositeWithTrainedAlgorithmicMedia`` (AI-assisted). A source that already carries a C2PA
manifest is never stripped of it: the new manifest *opens* it as its parent ingredient
(``c2pa.opened``), so its history — including the generator's own ``digitalSourceType`` — stays
verifiable, and ``c2pa.created`` (which C2PA allows only for an asset without a parent) is not
written; a human work without a manifest is opened the same way (Obra does not claim to know how
it was captured). A source whose own manifest is *invalid* is refused: a valid manifest over it
would hide the tampering. Every signed copy is read back before it is returned and must give the same
entries (an :class:`~obra.errors.InternalInvariantError` otherwise); a copy written to a path is
written to a temporary file and renamed, so nothing half-written is left.

**Signing credentials** come from the caller (:class:`SigningCredentials`): a certificate chain
PEM (leaf first, then intermediates; the leaf with ``digitalSignature`` key usage and the
``emailProtection`` or ``documentSigning`` extended key usage, issued by a CA: C2PA refuses
self-signed certificates), a PKCS#8 private key PEM, and the algorithm (``es256``, ``es384``,
``es512``, ``ps256``, ``ps384``, ``ps512``, ``ed25519``). An office configures them with the
environment (:meth:`SigningCredentials.from_env`):

* ``OBRA_C2PA_CERT``: path of the certificate chain PEM file (or the PEM text itself);
* ``OBRA_C2PA_KEY``: path of the private key PEM file (or the PEM text itself);
* ``OBRA_C2PA_ALG``: the algorithm, ``es256`` when unset.

No network is used, ever: no time-stamp authority (the manifest's time is the signer's claim),
no OCSP, no remote manifests.
"""

from __future__ import annotations

import io
import json
import mimetypes
import os
import re
import tempfile
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO, Literal, Mapping

import c2pa

from obra.aiuse.signals.robots import Terms
from obra.aiuse.vocabulary import TOKENS, Permission, Reading, Signal, Use
from obra.errors import InternalInvariantError, InvalidInput, Problem

__all__ = [
    "STANDARD", "LABEL", "LEGACY_LABEL", "CAWG_KEYS", "CAWG_USES", "IPTC", "TRAINED_ALGORITHMIC_MEDIA",
    "COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA", "ALGORITHMS",
    "CawgEntry", "SourceType", "CawgResult", "read_manifest_store", "read_media",
    "SigningCredentials", "training_mining_assertion", "actions_assertion", "manifest_definition",
    "SignedMedia", "sign_media",
]

STANDARD = "cawg"
LABEL = "cawg.training-mining"
LEGACY_LABEL = "c2pa.training-mining"
SPEC = "CAWG training-and-data-mining 1.1"
CAWG_KEYS: tuple[str, ...] = tuple(k for k in TOKENS[STANDARD] if k.startswith("cawg."))
"""The four keys CAWG 1.1 defines (and the only ones written)."""
CAWG_USES: tuple[Use, ...] = tuple(u for k in CAWG_KEYS for u in TOKENS[STANDARD][k])
"""The uses CAWG can express: mining, inference, generative and non-generative training."""
IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
TRAINED_ALGORITHMIC_MEDIA = IPTC + "trainedAlgorithmicMedia"
COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA = IPTC + "compositeWithTrainedAlgorithmicMedia"
ALGORITHMS = ("es256", "es384", "es512", "ps256", "ps384", "ps512", "ed25519")

Mode = Literal["human", "ai_assisted", "ai_generated"]
Validation = Literal["trusted", "untrusted-signer", "valid", "invalid"]
Status = Literal["read", "no-manifest", "unreadable", "unsupported", "remote"]

_USE_VALUES = {"allowed": Reading.ALLOWED, "notAllowed": Reading.NOT_ALLOWED, "constrained": Reading.NOT_ALLOWED}
_PERMISSION_OF = {"allowed": Permission.ALLOWED, "notAllowed": Permission.NOT_ALLOWED,
                  "constrained": Permission.LICENCE}
_INSTANCE = re.compile(r"(.+?)(?:__\d+)?\Z")
_ACTIONS = ("c2pa.actions", "c2pa.actions.v2")
_UNTRUSTED = "signingCredential.untrusted"
_MAX_CONSTRAINT = 4096
_MAX_DEPTH = 16          # parent-ingredient manifests followed for digitalSourceType


# ---------------------------------------------------------------------------------------------
# Reading


@dataclass(frozen=True)
class CawgEntry:
    """One entry of a training-mining assertion, verbatim: its key, its ``use`` (as written; not
    necessarily a string), its constraint, and the uses the key covers (none for custom keys)."""

    key: str
    use: Any
    constraint_info: str | None
    uses: tuple[Use, ...]
    assertion: str
    form: str
    """``cawg 1.1`` (entries), ``cawg 1.0`` (a map without entries) or ``c2pa 1.x`` (legacy label)."""

    def to_json(self) -> dict:
        return {"key": self.key, "use": self.use, "constraint_info": self.constraint_info,
                "uses": [u.value for u in self.uses], "assertion": self.assertion, "form": self.form}


@dataclass(frozen=True)
class SourceType:
    """A ``digitalSourceType`` stated by an action: the IPTC URI, its short name, the action and
    the manifest that states it (``active`` False for a parent ingredient's manifest)."""

    value: str
    action: str | None
    manifest: str
    active: bool

    @property
    def name(self) -> str:
        return self.value.rstrip("/").rsplit("/", 1)[-1]

    @property
    def ai(self) -> bool:
        """Whether the type says a trained model made (or helped make) the asset."""
        return self.name in ("trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia",
                             "trainedAlgorithmicData")

    def to_json(self) -> dict:
        return {"value": self.value, "name": self.name, "action": self.action, "manifest": self.manifest,
                "active": self.active}


@dataclass(frozen=True)
class CawgResult:
    """What a file's C2PA manifest store says about training and mining."""

    status: Status
    source: str
    manifest: str | None = None
    """The active manifest's label."""
    validation: Validation | None = None
    validation_codes: tuple[str, ...] = ()
    """The active manifest's failure codes (``assertion.dataHash.mismatch``, ``signingCredential.untrusted``…)."""
    signer: Mapping[str, Any] | None = None
    entries: tuple[CawgEntry, ...] = ()
    signals: tuple[Signal, ...] = ()
    digital_source_types: tuple[SourceType, ...] = ()
    problems: tuple[Problem, ...] = ()

    def reading(self, use: Use) -> Reading:
        """The reading for ``use``; unknown when nothing in the manifest speaks to it."""
        return next((s.reading for s in self.signals if s.use is use), Reading.UNKNOWN)

    def permissions(self) -> dict[Use, Permission]:
        """The entries as terms: ``allowed`` → allowed, ``notAllowed`` → not allowed,
        ``constrained`` → allowed under licence (the writer's reading of a licence); uses the
        manifest does not state, or states with an unreadable value, are left out. An invalid
        manifest's ``allowed`` is left out too (it grants nothing)."""
        out: dict[Use, Permission] = {}
        rank = {Permission.NOT_ALLOWED: 0, Permission.LICENCE: 1, Permission.ALLOWED: 2}
        for entry in self.entries:
            permission = _PERMISSION_OF.get(entry.use) if isinstance(entry.use, str) else None
            if permission is None or (permission is Permission.ALLOWED and self.validation == "invalid"):
                continue
            for use in entry.uses:
                if use not in out or rank[permission] < rank[out[use]]:
                    out[use] = permission
        return out

    @property
    def ai_generated(self) -> bool:
        """Whether the active manifest (or a parent's) declares a trained-model source type."""
        return any(t.ai for t in self.digital_source_types)

    def to_json(self) -> dict:
        return {"status": self.status, "source": self.source, "manifest": self.manifest,
                "validation": self.validation, "validation_codes": list(self.validation_codes),
                "signer": dict(self.signer) if self.signer else None,
                "entries": [e.to_json() for e in self.entries], "signals": [s.to_json() for s in self.signals],
                "digital_source_types": [t.to_json() for t in self.digital_source_types],
                "problems": [p.to_dict() for p in self.problems]}


def _base_label(label: str) -> str:
    match = _INSTANCE.match(label)
    return match.group(1) if match else label


def _validation(store: Mapping[str, Any]) -> tuple[Validation, tuple[str, ...]]:
    results = store.get("validation_results")
    codes: list[str] = []
    active = results.get("activeManifest") if isinstance(results, Mapping) else None
    if isinstance(active, Mapping) and isinstance(active.get("failure"), list):
        codes = [str(f.get("code")) for f in active["failure"] if isinstance(f, Mapping)]
    elif isinstance(store.get("validation_status"), list):
        codes = [str(f.get("code")) for f in store["validation_status"] if isinstance(f, Mapping)]
    state = store.get("validation_state")
    if state == "Trusted":
        return "trusted", tuple(codes)
    if state == "Invalid" or any(c != _UNTRUSTED for c in codes):
        return "invalid", tuple(codes)
    if _UNTRUSTED in codes:
        return "untrusted-signer", tuple(codes)
    return "valid", tuple(codes)


def _entries_of(label: str, data: Any, source: str) -> tuple[list[CawgEntry], list[Problem]]:
    """The entries of one training-mining assertion (1.1, 1.0 or C2PA 1.x), with their problems."""
    problems: list[Problem] = []
    legacy = _base_label(label) == LEGACY_LABEL
    if not isinstance(data, Mapping):
        return [], [Problem(f"{label} is not a map; not read", field=label, source=source)]
    if "entries" in data:
        entries = data["entries"]
        form = "c2pa 1.x" if legacy else "cawg 1.1"
        if not isinstance(entries, Mapping):
            return [], [Problem(f"{label} 'entries' is not a map; not read", field=f"{label}.entries", source=source)]
        where = f"{label}.entries"
    else:
        # CAWG 1.0 (and C2PA 1.x drafts): the entries are the map itself; 'metadata' is not one.
        entries = {k: v for k, v in data.items() if k != "metadata"}
        form = "c2pa 1.x" if legacy else "cawg 1.0"
        where = label
    out: list[CawgEntry] = []
    for key, value in entries.items():
        key = str(key)
        path = f"{where}.{key}"
        if not isinstance(value, Mapping):
            problems.append(Problem(f"entry {key!r} is not a map with a 'use'; ignored", field=path, source=source))
            continue
        constraint = value.get("constraint_info")
        prose = value.get("constraints_info")
        if constraint is None and prose is not None:
            constraint = prose
        elif constraint is not None and prose is not None and prose != constraint:
            problems.append(Problem("both constraint_info (CDDL) and constraints_info (prose) are given and "
                                    "differ; constraint_info is kept", field=path, source=source))
        if constraint is not None and not isinstance(constraint, str):
            problems.append(Problem("constraint_info is not text; ignored", field=f"{path}.constraint_info",
                                    source=source))
            constraint = None
        use = value.get("use")
        if "use" not in value:
            problems.append(Problem(f"entry {key!r} has no 'use' (mandatory): read as unknown", field=path,
                                    source=source))
        elif not isinstance(use, str) or use not in _USE_VALUES:
            problems.append(Problem(f"use {json.dumps(use)[:60]} is not allowed, notAllowed or constrained "
                                    "(case-sensitive): read as unknown", field=f"{path}.use", source=source))
        uses = TOKENS[STANDARD].get(key, ())
        if not uses and key.startswith(("cawg.", "c2pa.")):
            problems.append(Problem(f"key {key!r} uses a reserved prefix but is not defined by {SPEC} "
                                    f"(it defines {', '.join(CAWG_KEYS)}): recorded, mapped to no use",
                                    field=path, source=source))
        out.append(CawgEntry(key, use, constraint, uses, label, form))
    return out, problems


def _rule(entry: CawgEntry, validation: Validation) -> tuple[Reading, str]:
    word = entry.use
    form = {"cawg 1.1": SPEC, "cawg 1.0": "CAWG 1.0 (no entries map), read as 1.1",
            "c2pa 1.x": "C2PA 1.x c2pa.training-mining (removed in C2PA 2.0), read as CAWG 1.1"}[entry.form]
    if word == "allowed":
        reading, how = Reading.ALLOWED, "allowed: the asset may be used this way"
    elif word == "notAllowed":
        reading, how = Reading.NOT_ALLOWED, "notAllowed: the asset may not be used this way"
    elif word == "constrained":
        reading = Reading.NOT_ALLOWED
        how = ("constrained: read as not allowed (in the absence of additional information constrained is "
               "equivalent to notAllowed; the constraint is free text that cannot be evaluated here")
        how += f": {entry.constraint_info[:200]!r})" if entry.constraint_info else ")"
    else:
        reading, how = Reading.UNKNOWN, f"use {json.dumps(word)[:60]} is not a defined value: unknown"
    rule = f"{entry.key} {how} ({form})"
    if validation == "invalid":
        if reading is Reading.ALLOWED:
            reading = Reading.UNKNOWN
            rule += "; the manifest is INVALID (changed after signing): a permission nobody can attribute grants nothing"
        elif reading is Reading.NOT_ALLOWED:
            rule += "; the manifest is INVALID (changed after signing): the reservation is kept, unattributed"
    elif validation == "untrusted-signer":
        rule += "; signed by a signer on no trust list given to the reader"
    return reading, rule


_ORDER = (Reading.NOT_ALLOWED, Reading.ALLOWED, Reading.UNKNOWN)


def _signals(entries: list[CawgEntry], manifest: str, validation: Validation, codes: tuple[str, ...],
             signer: Mapping[str, Any] | None) -> tuple[Signal, ...]:
    source = f"c2pa manifest {manifest}"
    by_use: dict[Use, list[Signal]] = {}
    for entry in entries:
        reading, rule = _rule(entry, validation)
        extra: dict[str, Any] = {"assertion": entry.assertion, "form": entry.form, "validation": validation}
        if codes:
            extra["validation_codes"] = list(codes)
        if entry.constraint_info is not None:
            extra["constraint_info"] = entry.constraint_info[:_MAX_CONSTRAINT]
        if signer:
            extra["signer"] = dict(signer)
        raw = entry.use if isinstance(entry.use, str) or entry.use is None else json.dumps(entry.use)[:200]
        for use in entry.uses:
            by_use.setdefault(use, []).append(Signal(STANDARD, source, use, reading, token=entry.key, raw=raw,
                                                     rule=rule, extra=dict(extra)))
    out: list[Signal] = []
    for key in CAWG_KEYS:
        for use in TOKENS[STANDARD][key]:
            said = by_use.get(use)
            if not said:
                if entries:
                    out.append(Signal(STANDARD, source, use, Reading.UNKNOWN, token=key, raw=None,
                                      rule=f"{key} not in the training-mining assertion: no statement ({SPEC})",
                                      extra={"validation": validation}))
                continue
            deciding = min(said, key=lambda s: _ORDER.index(s.reading))
            if len({s.reading for s in said}) > 1:
                deciding = replace(deciding, rule=deciding.rule + f"; {len(said)} entries speak to this use and "
                                   "disagree: the most restrictive is read")
            out.append(deciding)
    return tuple(out)


def _source_types(store: Mapping[str, Any], label: str) -> tuple[SourceType, ...]:
    manifests = store.get("manifests")
    if not isinstance(manifests, Mapping):
        return ()
    out: list[SourceType] = []
    seen: set[str] = set()
    current: str | None = label
    depth = 0
    while current and current not in seen and depth < _MAX_DEPTH:
        seen.add(current)
        manifest = manifests.get(current)
        if not isinstance(manifest, Mapping):
            break
        for assertion in manifest.get("assertions") or ():
            if not isinstance(assertion, Mapping) or _base_label(str(assertion.get("label"))) not in _ACTIONS:
                continue
            data = assertion.get("data")
            for action in (data.get("actions") if isinstance(data, Mapping) else None) or ():
                if isinstance(action, Mapping) and isinstance(action.get("digitalSourceType"), str):
                    out.append(SourceType(action["digitalSourceType"], str(action.get("action")), current,
                                          depth == 0))
        parent = next((i for i in manifest.get("ingredients") or ()
                       if isinstance(i, Mapping) and i.get("relationship") == "parentOf"), None)
        current = parent.get("active_manifest") if parent else None
        depth += 1
    return tuple(out)


def read_manifest_store(store: str | bytes | Mapping[str, Any], source: str = "manifest store") -> CawgResult:
    """Read a C2PA manifest store as c2pa's ``Reader.json()`` gives it (a pure function of the JSON).

    Never raises: JSON that is not a manifest store gives status ``unreadable`` with its problem."""
    if not isinstance(store, Mapping):
        try:
            store = json.loads(store)
        except (ValueError, RecursionError) as exc:
            return CawgResult("unreadable", source, problems=(Problem(f"manifest store is not JSON: {exc}",
                                                                      source=source),))
    if not isinstance(store, Mapping):
        return CawgResult("unreadable", source, problems=(Problem("manifest store is not a JSON object", source=source),))
    label = store.get("active_manifest")
    manifests = store.get("manifests")
    if not isinstance(manifests, Mapping) or not manifests:
        return CawgResult("no-manifest", source)
    manifest = manifests.get(label) if isinstance(label, str) else None
    if not isinstance(manifest, Mapping):
        return CawgResult("unreadable", source, problems=(Problem(
            f"the manifest store names no usable active manifest ({label!r})", field="active_manifest",
            source=source),))
    validation, codes = _validation(store)
    info = manifest.get("signature_info")
    signer = {k: info[k] for k in ("common_name", "issuer", "alg", "time") if isinstance(info, Mapping) and k in info} \
        if isinstance(info, Mapping) else None
    entries: list[CawgEntry] = []
    problems: list[Problem] = []
    for assertion in manifest.get("assertions") or ():
        if not isinstance(assertion, Mapping):
            continue
        name = str(assertion.get("label"))
        if _base_label(name) in (LABEL, LEGACY_LABEL):
            found, trouble = _entries_of(name, assertion.get("data"), source)
            entries += found
            problems += trouble
    if validation == "invalid":
        problems.append(Problem(f"the active manifest is invalid ({', '.join(c for c in codes if c != _UNTRUSTED)}"
                                "): the file or its manifest changed after signing; its statements are recorded "
                                "and marked, and its permissions grant nothing", field="validation", source=source))
    return CawgResult("read", source, str(label), validation, codes, signer or None, tuple(entries),
                      _signals(entries, str(label), validation, codes, signer or None),
                      _source_types(store, str(label)), tuple(problems))


@lru_cache(maxsize=32)
def _context(trust_anchors: str | None, thumbnail: bool = True) -> c2pa.Context:
    settings: dict[str, Any] = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False},
                                "builder": {"thumbnail": {"enabled": thumbnail}}}
    if trust_anchors:
        settings["trust"] = {"trust_anchors": trust_anchors}
    return c2pa.Context.from_dict(settings)


def _as_text(pem: str | bytes | None) -> str | None:
    if pem is None:
        return None
    return pem.decode("ascii", "replace") if isinstance(pem, bytes) else pem


def _mime(mime_type: str | None, path: Path | None) -> str | None:
    if mime_type:
        return mime_type.strip().lower()
    if path is not None:
        guessed, _enc = mimetypes.guess_type(path.name)
        return guessed
    return None


@lru_cache(maxsize=1)
def _reader_types() -> frozenset[str]:
    return frozenset(c2pa.Reader.get_supported_mime_types())


def _c2pa_problem(exc: Exception, source: str, mime: str | None) -> tuple[Status, Problem]:
    text = str(exc).strip() or type(exc).__name__
    if isinstance(exc, c2pa.C2paError.NotSupported) and mime in _reader_types():
        return "unreadable", Problem(f"the bytes are not a {mime} file the library recognises (damaged, or another "
                                     f"format): {text}", source=source)
    if isinstance(exc, c2pa.C2paError.NotSupported):
        return "unsupported", Problem(f"not a format C2PA can carry a manifest in ({mime or 'type not detected'}): "
                                      f"{text}", source=source)
    if isinstance(exc, c2pa.C2paError.RemoteManifest):
        return "remote", Problem(f"the manifest is stored remotely and is not fetched (no network): {text}",
                                 source=source)
    return "unreadable", Problem(f"the file could not be read as {mime or 'a media file'} (damaged, truncated or "
                                 f"not that format): {text}", source=source)


def read_media(data: bytes | str | os.PathLike, mime_type: str | None = None, *,
               trust_anchors: str | bytes | None = None, source: str | None = None) -> CawgResult:
    """Read the CAWG statements of a media file (its bytes, or a path) with c2pa-python.

    ``mime_type`` (e.g. ``image/jpeg``, ``audio/wav``) helps the library; without it the type is
    guessed from the path's extension, else detected from the bytes. ``trust_anchors`` (PEM root
    certificates) lets a manifest read as ``trusted``; without them an intact manifest reads
    ``untrusted-signer``. Never raises for what the file holds: no manifest → ``no-manifest``;
    damaged → ``unreadable`` with a problem.
    """
    path = None if isinstance(data, (bytes, bytearray, memoryview)) else Path(data)
    where = source or (str(path) if path is not None else "media bytes")
    mime = _mime(mime_type, path)
    stream: BinaryIO
    try:
        stream = open(path, "rb") if path is not None else io.BytesIO(bytes(data))
    except OSError as exc:
        return CawgResult("unreadable", where, problems=(Problem(f"cannot open the file: {exc.strerror or exc}",
                                                                 source=where),))
    try:
        with stream:
            context = _context(_as_text(trust_anchors))
            try:
                reader = c2pa.Reader(mime, stream, context=context) if mime else c2pa.Reader(stream, context=context)
            except c2pa.C2paError.ManifestNotFound:
                return CawgResult("no-manifest", where)
            with reader:
                text = reader.json()
    except (c2pa.C2paError, OSError, ValueError, TypeError, KeyError, RuntimeError) as exc:
        status, problem = _c2pa_problem(exc, where, mime)
        return CawgResult(status, where, problems=(problem,))
    return read_manifest_store(text, where)


# ---------------------------------------------------------------------------------------------
# Writing


@dataclass(frozen=True, repr=False)
class SigningCredentials:
    """What signs a manifest: a certificate chain PEM (leaf first), its PKCS#8 private key PEM
    and the algorithm. ``repr`` never shows the key."""

    certificate_chain: bytes
    private_key: bytes
    algorithm: str = "es256"

    def __repr__(self) -> str:
        return f"SigningCredentials(algorithm={self.algorithm!r}, certificate_chain=<{len(self.certificate_chain)} bytes>)"

    def problems(self) -> list[Problem]:
        out: list[Problem] = []
        if self.algorithm not in ALGORITHMS:
            out.append(Problem(f"algorithm {self.algorithm!r}: C2PA signs with {', '.join(ALGORITHMS)}",
                               field="algorithm"))
        if b"-----BEGIN CERTIFICATE-----" not in self.certificate_chain:
            out.append(Problem("the certificate chain is not PEM (no BEGIN CERTIFICATE)", field="certificate_chain"))
        if b"PRIVATE KEY-----" not in self.private_key:
            out.append(Problem("the private key is not PEM (no BEGIN PRIVATE KEY)", field="private_key"))
        return out

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "SigningCredentials":
        """From ``OBRA_C2PA_CERT`` and ``OBRA_C2PA_KEY`` (file paths, or the PEM text itself) and
        ``OBRA_C2PA_ALG`` (default ``es256``)."""
        env = os.environ if env is None else env
        problems: list[Problem] = []
        values: dict[str, bytes] = {}
        for name in ("OBRA_C2PA_CERT", "OBRA_C2PA_KEY"):
            value = env.get(name)
            if not value:
                problems.append(Problem(f"{name} is not set", field=name))
                continue
            if value.lstrip().startswith("-----BEGIN"):
                values[name] = value.encode("ascii", "replace")
                continue
            try:
                values[name] = Path(value).read_bytes()
            except OSError as exc:
                problems.append(Problem(f"cannot read {value!r}: {exc.strerror or exc}", field=name))
        if problems:
            raise InvalidInput(problems, hint="set OBRA_C2PA_CERT to the certificate chain PEM file and "
                                              "OBRA_C2PA_KEY to its private key PEM file (OBRA_C2PA_ALG: es256 by default)")
        credentials = cls(values["OBRA_C2PA_CERT"], values["OBRA_C2PA_KEY"],
                          (env.get("OBRA_C2PA_ALG") or "es256").strip().lower())
        if credentials.problems():
            raise InvalidInput(credentials.problems())
        return credentials


def _stated(terms: Terms) -> dict[Use, tuple[Permission, Any]]:
    """Use → (permission, the deciding term or None) for the unscoped question."""
    if isinstance(terms, Mapping):
        return {Use(u): (Permission(p), None) for u, p in terms.items()}
    out = {}
    for use in Use:
        term = terms.permission(use)
        if term is not None:
            out[use] = (term.permission, term)
    return out


def _licence_text(term: Any, licence_url: str | None, contact: str | None) -> str:
    parts = ["Licence required"]
    details = []
    price = getattr(term, "price", None)
    if price is not None:
        details.append(f"price model: {getattr(price.model, 'value', price.model)}")
    if getattr(term, "prior_consent", False):
        details.append("prior consent required")
    text = parts[0] + (f" ({'; '.join(details)})" if details else "")
    if licence_url:
        text += f". Terms: {licence_url}"
    if contact:
        text += f". Contact: {contact}"
    return text + "."


def training_mining_assertion(terms: Terms, *, licence_url: str | None = None,
                              contact: str | None = None) -> dict:
    """The ``cawg.training-mining`` 1.1 assertion data for ``terms`` (a use → permission map, or
    :class:`~obra.aiuse.terms.AITerms`): ``{"entries": {key: {"use": …, "constraint_info"?}}}``.

    Allowed → ``allowed``; not allowed → ``notAllowed``; licence → ``constrained`` with a
    ``constraint_info`` naming how to get the licence (``licence_url``, else the terms'
    ``policy_url``; ``contact``, else the terms' contact — at least one is required); a use the
    terms do not state is not written.
    """
    stated = _stated(terms)
    url = licence_url or getattr(terms, "policy_url", None)
    who = contact or getattr(terms, "contact", None)
    entries: dict[str, dict] = {}
    problems: list[Problem] = []
    rank = {Permission.NOT_ALLOWED: 0, Permission.LICENCE: 1, Permission.ALLOWED: 2}
    for key in CAWG_KEYS:
        said = [stated.get(u) for u in TOKENS[STANDARD][key]]
        if not said or any(s is None for s in said):
            continue
        permission, term = min(said, key=lambda s: rank[s[0]])
        if permission is Permission.ALLOWED:
            entries[key] = {"use": "allowed"}
        elif permission is Permission.NOT_ALLOWED:
            entries[key] = {"use": "notAllowed"}
        else:
            if not url and not who:
                problems.append(Problem(f"{key} is under licence, but the terms name neither a licence URL nor a "
                                        "contact: a licensee would not know where to ask", field="licence_url"))
                continue
            entries[key] = {"use": "constrained", "constraint_info": _licence_text(term, url, who)}
    if problems:
        raise InvalidInput(problems, hint="give licence_url (the licence terms, e.g. the RSL document or the "
                                          "ODRL policy) or a contact")
    return {"entries": entries}


def actions_assertion(mode: Mode) -> dict | None:
    """The ``c2pa.actions`` assertion for a work made with AI (None for a human work)."""
    source = {"ai_generated": TRAINED_ALGORITHMIC_MEDIA,
              "ai_assisted": COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA}.get(mode)
    if source is None:
        return None
    return {"actions": [{"action": "c2pa.created", "digitalSourceType": source}]}


def _generator() -> dict:
    try:
        from importlib.metadata import version
        return {"name": "Obra", "version": version("obra")}
    except Exception:  # noqa: BLE001 - metadata is optional (a source checkout)
        return {"name": "Obra"}


def manifest_definition(terms: Terms, *, mode: Mode = "human", title: str | None = None,
                        licence_url: str | None = None, contact: str | None = None,
                        created: bool = True) -> dict:
    """The manifest definition c2pa's ``Builder`` signs: the training-mining assertion and, when
    ``created`` (the source has no manifest of its own) and the work was made with AI, the
    ``c2pa.actions`` assertion declaring its digital source type."""
    if mode not in ("human", "ai_assisted", "ai_generated"):
        raise InvalidInput(Problem(f"mode {mode!r}: human, ai_assisted or ai_generated", field="mode"))
    assertions: list[dict] = [{"label": LABEL, "data": training_mining_assertion(terms, licence_url=licence_url,
                                                                                 contact=contact)}]
    actions = actions_assertion(mode) if created else None
    if actions is not None:
        assertions.insert(0, {"label": "c2pa.actions", "data": actions})
    definition: dict[str, Any] = {"claim_generator_info": [_generator()], "assertions": assertions}
    if title:
        definition["title"] = title
    return definition


@dataclass(frozen=True)
class SignedMedia:
    """A signed copy: its bytes (or the path it was written to), the new manifest's label, the
    assertion written, the digital source type declared (if any), and the reading of the copy."""

    manifest: str
    assertion: dict
    digital_source_type: str | None
    kept_manifest: str | None
    """The source's own active manifest, kept as the parent ingredient (None if it had none)."""
    result: CawgResult
    data: bytes | None = field(default=None, repr=False)
    path: Path | None = None


def _sign_problem(exc: Exception) -> InvalidInput:
    text = str(exc).strip()
    lowered = text.lower()
    if isinstance(exc, c2pa.C2paError.Signature) or "certificate" in lowered or "credential" in lowered:
        return InvalidInput(Problem(f"the signing credentials were refused: {text}", field="credentials"),
                            hint="C2PA needs a certificate issued by a CA (not self-signed), with digitalSignature "
                                 "key usage and the emailProtection or documentSigning extended key usage, the "
                                 "chain leaf first, and its PKCS#8 private key")
    return InvalidInput(Problem(f"the file could not be signed: {text}", field="source"),
                        hint="check that the file is not damaged and that mime_type names its format")


def sign_media(source: bytes | str | os.PathLike, credentials: SigningCredentials, terms: Terms, *,
               mime_type: str | None = None, mode: Mode = "human", title: str | None = None,
               licence_url: str | None = None, contact: str | None = None,
               dest: str | os.PathLike | None = None, thumbnail: bool = True,
               trust_anchors: str | bytes | None = None) -> SignedMedia:
    """Sign a copy of a media file with a manifest carrying ``terms`` (see the module docstring).

    ``source`` is the file's bytes or path; ``dest`` a path to write the copy to (else the bytes
    are returned in :attr:`SignedMedia.data`). Refused with :class:`~obra.errors.InvalidInput`:
    an unreadable or unsupported file, credentials C2PA refuses, terms that cannot be written.
    The source is never changed.
    """
    problems = credentials.problems()
    src_path = None if isinstance(source, (bytes, bytearray, memoryview)) else Path(source)
    where = str(src_path) if src_path is not None else "media bytes"
    mime = _mime(mime_type, src_path)
    if mime is None:
        problems.append(Problem("the media type is not known: pass mime_type (e.g. image/jpeg)", field="mime_type"))
    elif mime not in c2pa.Builder.get_supported_mime_types():
        problems.append(Problem(f"C2PA cannot sign {mime} files", field="mime_type"))
    if problems:
        raise InvalidInput(problems)
    before = read_media(source if src_path is None else src_path, mime, trust_anchors=trust_anchors, source=where)
    if before.status not in ("read", "no-manifest"):
        raise InvalidInput(list(before.problems) or [Problem(f"the file cannot be read ({before.status})", source=where)])
    if before.validation == "invalid":
        raise InvalidInput(Problem(f"the file's own C2PA manifest {before.manifest} is invalid "
                                   f"({', '.join(c for c in before.validation_codes if c != _UNTRUSTED)}): the file or "
                                   "its manifest changed after signing, and a new manifest over it would hide that",
                                   field="source", source=where),
                           hint="sign the original file, as it came from its creator or generator")
    has_manifest = before.status == "read"
    definition = manifest_definition(terms, mode=mode, title=title or (src_path.name if src_path else None),
                                     licence_url=licence_url, contact=contact, created=not has_manifest)
    creates = any(a["label"] == "c2pa.actions" for a in definition["assertions"])
    try:
        signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(credentials.algorithm.encode(),
                                                           credentials.certificate_chain,
                                                           credentials.private_key, None))
    except (c2pa.C2paError, ValueError, TypeError) as exc:
        raise _sign_problem(exc) from None
    dest_path = Path(dest) if dest is not None else None
    tmp_name: str | None = None
    try:
        with signer:
            builder = c2pa.Builder.from_json(json.dumps(definition), _context(_as_text(trust_anchors), thumbnail))
            with builder:
                if creates:
                    kind = (c2pa.C2paDigitalSourceType.TRAINED_ALGORITHMIC_MEDIA if mode == "ai_generated" else
                            c2pa.C2paDigitalSourceType.COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA)
                    builder.set_intent(c2pa.C2paBuilderIntent.CREATE, kind)
                else:
                    builder.set_intent(c2pa.C2paBuilderIntent.EDIT)
                with (open(src_path, "rb") if src_path is not None else io.BytesIO(bytes(source))) as src:
                    if dest_path is None:
                        out: BinaryIO = io.BytesIO()
                        builder.sign(signer, mime, src, out)
                        data: bytes | None = out.getvalue()
                    else:
                        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest_path.name}.", dir=dest_path.parent or ".")
                        with os.fdopen(fd, "w+b") as out:
                            builder.sign(signer, mime, src, out)
                        data = None
    except (c2pa.C2paError, ValueError, TypeError, RuntimeError) as exc:
        if tmp_name:
            Path(tmp_name).unlink(missing_ok=True)
        raise _sign_problem(exc) from None
    except OSError as exc:
        if tmp_name:
            Path(tmp_name).unlink(missing_ok=True)
        raise InvalidInput(Problem(f"cannot write the signed copy: {exc.strerror or exc}", field="dest")) from None
    # The invariant: the copy reads back to exactly what was written, from a new manifest.
    after = read_media(data if data is not None else Path(tmp_name), mime, trust_anchors=trust_anchors,
                       source=str(dest_path) if dest_path else "signed copy")
    written = definition["assertions"][-1]["data"]["entries"]
    read_back = {e.key: ({"use": e.use, "constraint_info": e.constraint_info} if e.constraint_info is not None
                         else {"use": e.use}) for e in after.entries}
    if after.status != "read" or read_back != written or after.validation == "invalid" \
            or after.manifest == before.manifest:
        if tmp_name:
            Path(tmp_name).unlink(missing_ok=True)
        raise InternalInvariantError(f"the signed copy does not read back to what was written "
                                     f"(status {after.status}, validation {after.validation}, entries {read_back})")
    if tmp_name:
        try:
            os.replace(tmp_name, dest_path)
        except OSError as exc:
            Path(tmp_name).unlink(missing_ok=True)
            raise InvalidInput(Problem(f"cannot write the signed copy: {exc.strerror or exc}", field="dest")) from None
    declared = next((t.value for t in after.digital_source_types if t.active), None)
    return SignedMedia(after.manifest or "", definition["assertions"][-1]["data"], declared,
                       before.manifest if has_manifest else None, after, data, dest_path)
