"""The rights field's fixed words (roles, right types, statuses...) as readers see them.

Records and statements carry machine values (``featured_performer``, ``making_available``);
documents show the word a rights administrator would write, in the document's language.
The English labels below are the catalogue's msgids (marked with :func:`N_` so that
``pybabel extract`` finds them); a value not listed here is shown as written, with
underscores as spaces, so a new role added elsewhere never breaks a document.
"""

from __future__ import annotations

from typing import Callable


def N_(message: str) -> str:
    """Mark a string for the catalogue without translating it (translation happens at render time)."""
    return message


TERMS: dict[str, dict[str, str]] = {
    "role": {
        "author": N_("Author"), "composer": N_("Composer"), "lyricist": N_("Lyricist"),
        "arranger": N_("Arranger"), "translator": N_("Translator"), "performer": N_("Performer"),
        "featured_performer": N_("Featured performer"), "non_featured_performer": N_("Non-featured performer"),
        "producer": N_("Producer"), "publisher": N_("Publisher"), "sub_publisher": N_("Sub-publisher"),
        "administrator": N_("Administrator"), "label": N_("Label"), "cmo": N_("Collective management organisation"),
        "national_office": N_("National office"), "ai_developer": N_("AI developer"),
    },
    "right_type": {
        "performance": N_("Performance"), "mechanical": N_("Mechanical reproduction"),
        "making_available": N_("Making available"), "reproduction": N_("Reproduction"),
        "synchronisation": N_("Synchronisation"), "neighbouring": N_("Neighbouring rights"),
        "equitable_remuneration": N_("Equitable remuneration"), "ai_training": N_("AI training"),
    },
    "creation_mode": {
        "human": N_("Human creation"), "ai_assisted": N_("AI-assisted"), "ai_generated": N_("AI-generated"),
    },
    "status": {
        "registered": N_("Registered"), "corrected": N_("Corrected"), "withdrawn": N_("Withdrawn"),
    },
    "entity": {"work": N_("Work"), "recording": N_("Recording")},
    "work_kind": {
        "musical": N_("Musical work"), "literary": N_("Literary work"),
        "audiovisual": N_("Audiovisual work"), "visual": N_("Visual work"),
    },
    # statements: what a payee's line of money is, and what moved money between payees
    "payee_role": {
        "share": N_("Share under agreement"), "cmo_commission": N_("CMO commission"),
        "equitable_remuneration": N_("Equitable remuneration"), "unregistered": N_("Unregistered"),
    },
    "adjustment": {"recoupment": N_("Recoupment of advance"), "minimum_guarantee": N_("Minimum guarantee top-up"),
                   "statutory_floor": N_("Statutory floor top-up")},
    "model": {
        "pro-rata": N_("pro rata"), "user-centric": N_("user-centric"), "artist-centric": N_("artist-centric"),
    },
    "target": {"recording": N_("recording"), "work": N_("work")},
}

# Fixed sentences that arrive inside documents' data (the statement's rounding rule).
# Listed so translators see them; if the producing code changes the wording, the new
# text is shown untranslated until the catalogue catches up.
SENTENCES = (
    N_("each item's money is split once over exact fractions by largest remainder; ties go to the recipient "
       "listed first (commission, equitable remuneration, shares by party and agreement path)"),
)


def term(kind: str, value: object, gettext: Callable[[str], str]) -> str:
    """The label of vocabulary ``value`` of ``kind`` in the language of ``gettext``."""
    text = "" if value is None else str(value)
    label = TERMS.get(kind, {}).get(text)
    if label is None:
        return text.replace("_", " ")
    return gettext(label)
