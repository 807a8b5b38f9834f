"""One vocabulary of AI uses, and how each standard's tokens map into it.

The standards do not line up (``../shared/research/ai-signals.md`` §10): RSL's ``ai-train``
covers every kind of training, AIPREF vocab-07's ``train-ai`` only training of models that
generate content, CAWG splits ``cawg.ai_generative_training`` from ``cawg.ai_training``
(non-generative), and TDM·AI's ``train-ai`` means the non-generative kind while its
``train-genai`` is the generative one. So Obra states terms in finer uses than any single
standard (:class:`Use`) and keeps, for every standard, an explicit table from its tokens to the
uses they cover (:data:`TOKENS`). Where a standard has no token for a use the table has
nothing: a reader never guesses, the use stays *unknown* for that standard.

Readings are three-valued (:class:`Reading`); rightholders' terms add "allowed under licence"
(:class:`Permission`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Use(str, Enum):
    """A use of a work that AI-use terms and signals speak about."""

    TDM = "tdm"
    """Text and data mining: automated analysis to find patterns, trends and correlations
    (DSM Directive Art. 2(2)); OCR included (CAWG ``cawg.data_mining``)."""
    AI_TRAIN_GENERATIVE = "ai-train-generative"
    """Changing the learned parameters of a model that generates content (AIPREF ``train-ai``)."""
    AI_TRAIN_OTHER = "ai-train-other"
    """Training or fine-tuning a model that does not generate content (CAWG ``cawg.ai_training``)."""
    AI_INPUT = "ai-input"
    """Input to a model at use time: inference, retrieval-augmented generation, grounding."""
    AI_INDEX = "ai-index"
    """Indexing for AI applications (RSL ``ai-index``)."""
    SEARCH = "search"
    """A search application that sends users to the work: links and excerpts, no AI summaries."""

    @property
    def label(self) -> str:
        return self.value


AI_USES: tuple[Use, ...] = (Use.AI_TRAIN_GENERATIVE, Use.AI_TRAIN_OTHER, Use.AI_INPUT, Use.AI_INDEX)
TRAINING: tuple[Use, ...] = (Use.AI_TRAIN_GENERATIVE, Use.AI_TRAIN_OTHER)
ALL_USES: tuple[Use, ...] = tuple(Use)


class Reading(str, Enum):
    """What one signal says about one use."""

    ALLOWED = "allowed"
    NOT_ALLOWED = "not-allowed"
    UNKNOWN = "unknown"


class Permission(str, Enum):
    """What a rightholder's terms say about one use."""

    ALLOWED = "allowed"
    NOT_ALLOWED = "not-allowed"
    LICENCE = "licence"
    """Allowed under a licence (with a price model, and prior consent or not)."""


# Standard → token → the uses it covers. The tokens are each standard's own, verbatim.
TOKENS: dict[str, dict[str, tuple[Use, ...]]] = {
    # IETF AIPREF, draft-ietf-aipref-vocab-07: train-ai is generative training only (read literally);
    # there is no AIPREF token for non-generative training, input or mining.
    # vocab-08 (13 Sep 2026; the WG's editor's copy at github.com/ietf-wg-aipref/drafts) adds ai-use:
    # "use of an asset as input to a generative AI model, where the asset is not directly provided
    # by the user", training excluded.
    "aipref": {"train-ai": (Use.AI_TRAIN_GENERATIVE,), "ai-use": (Use.AI_INPUT,), "search": (Use.SEARCH,)},
    # Cloudflare Content Signals (draft-romm-aipref-contentsignals-00): ai-train is "training or
    # fine-tuning AI models", every kind.
    "content-signals": {"search": (Use.SEARCH,), "ai-input": (Use.AI_INPUT,), "ai-train": TRAINING},
    # RSL 1.0 usage tokens: all = every use; ai-all = every AI use, including ones not yet named.
    "rsl": {"all": ALL_USES, "ai-all": AI_USES, "ai-train": TRAINING, "ai-input": (Use.AI_INPUT,),
            "ai-index": (Use.AI_INDEX,), "search": (Use.SEARCH,)},
    # CAWG training-and-data-mining 1.1 (and the legacy c2pa.* keys of C2PA 1.x).
    "cawg": {"cawg.data_mining": (Use.TDM,), "cawg.ai_inference": (Use.AI_INPUT,),
             "cawg.ai_generative_training": (Use.AI_TRAIN_GENERATIVE,), "cawg.ai_training": (Use.AI_TRAIN_OTHER,),
             "c2pa.data_mining": (Use.TDM,), "c2pa.ai_inference": (Use.AI_INPUT,),
             "c2pa.ai_generative_training": (Use.AI_TRAIN_GENERATIVE,), "c2pa.ai_training": (Use.AI_TRAIN_OTHER,)},
    # W3C TDMRep: tdm-reservation covers text and data mining, which in EU law (DSM Art. 4) is
    # what AI training relies on; so a reservation covers mining and both kinds of training.
    "tdmrep": {"tdm-reservation": (Use.TDM, Use.AI_TRAIN_GENERATIVE, Use.AI_TRAIN_OTHER)},
    # Liccium TDM·AI (schema aligned with aipref-vocab-02): train-genai is generative, train-ai is
    # every training (its parent), all is every use; inheritance is the protocol's, see its reader.
    "tdmai": {"all": ALL_USES, "train-ai": TRAINING, "train-genai": (Use.AI_TRAIN_GENERATIVE,),
              "ai-use": (Use.AI_INPUT,), "search": (Use.SEARCH,)},
    # noai / noimageai (X-Robots-Tag, meta robots): a DeviantArt convention (2022), not a standard,
    # made to keep works out of AI training datasets; so both cover every kind of training
    # (noimageai only for images), and nothing else.
    "noai": {"noai": TRAINING, "noimageai": TRAINING},
}

# Older AIPREF vocabulary drafts, read through this table (never as current labels): the label,
# the draft that defined it, and what it is read as in vocab-07's terms.
AIPREF_LEGACY: dict[str, tuple[str, tuple[Use, ...]]] = {
    "train-genai": ("vocab-02/-03", (Use.AI_TRAIN_GENERATIVE,)),
    "genai": ("vocab-01", (Use.AI_TRAIN_GENERATIVE,)),
    "ai": ("vocab-01", TRAINING),
    "tdm": ("vocab-01", (Use.TDM,) + TRAINING),
    "inference": ("vocab-01", (Use.AI_INPUT,)),
    "ai-use": ("vocab-02", (Use.AI_INPUT,)),
}


def uses_of(standard: str, token: str) -> tuple[Use, ...]:
    """The uses a standard's token covers (empty when the standard has no such token)."""
    return TOKENS.get(standard, {}).get(token, ())


def tokens_for(standard: str, use: Use) -> tuple[str, ...]:
    """The standard's tokens that cover ``use``, most specific first (fewest uses covered)."""
    found = [(len(uses), token) for token, uses in TOKENS.get(standard, {}).items() if use in uses]
    return tuple(token for _n, token in sorted(found))


@dataclass(frozen=True)
class Signal:
    """What one statement in one standard says about one use.

    ``standard`` and ``source`` say where it came from (e.g. ``aipref`` / ``robots.txt
    Content-Usage``, ``tdmrep`` / ``tdmrep.json``); ``token`` and ``raw`` are the standard's own
    words, verbatim; ``rule`` says how the reader read them (the specification's rule that
    applied), ``scope`` the path pattern or element it applies to, when there is one.
    """

    standard: str
    source: str
    use: Use
    reading: Reading
    token: str | None = None
    raw: str | None = None
    rule: str = ""
    scope: str | None = None
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    def to_json(self) -> dict:
        out = {"standard": self.standard, "source": self.source, "use": self.use.value,
               "reading": self.reading.value, "token": self.token, "raw": self.raw, "rule": self.rule,
               "scope": self.scope}
        if self.extra:
            out["extra"] = self.extra
        return out
