"""Territory names in the reader's language, for ISO 3166 countries and CISAC TIS groups.

Usage reports and shares name territories by ISO 3166 code (``UY``), by TIS group
(``2WL`` world, ``2EU`` Europe) or by TIS number (``858``, ``2136``). Countries and the
groups CLDR also names take Babel's names; the TIS groups CLDR has no word for are
translated in Obra's own catalogue. Anything unknown is shown as the code it is, so a
document never fails over a name.
"""

from __future__ import annotations

from obra import ids
from obra.errors import InvalidInput
from obra.render.catalogues import translations
from obra.render.vocabulary import N_
from obra.render.formatting import _locale

# TIS groups with a CLDR region of the same name (UN M.49 numeric codes, EU).
CLDR_REGIONS = {
    "2WL": "001", "2AF": "002", "2NA": "003", "2SA": "005", "2OC": "009", "2CA": "013", "2AM": "019",
    "2SE": "035", "2AA": "053", "2AS": "142", "2EU": "150", "2EE": "151", "2EN": "EU",
}

# The other TIS groups: names for the catalogue (CISAC's list, in sentence case).
TIS_GROUPS = {
    "2AC": N_("American continent"),
    "2AE": N_("ASEAN countries"),
    "2AN": N_("Antilles"),
    "2AP": N_("APEC countries"),
    "2BA": N_("Balkans"),
    "2BE": N_("Benelux"),
    "2BI": N_("British Isles"),
    "2BS": N_("Baltic States"),
    "2BW": N_("British West Indies"),
    "2CF": N_("Commonwealth African territories"),
    "2CI": N_("Commonwealth of Independent States"),
    "2CO": N_("Commonwealth"),
    "2CS": N_("Commonwealth Asian territories"),
    "2CU": N_("Commonwealth Australasian territories"),
    "2EC": N_("European continent"),
    "2EM": N_("European Economic Area"),
    "2GC": N_("German-speaking countries (Germany, Austria, Switzerland)"),
    "2ME": N_("Middle East"),
    "2NC": N_("Nordic countries"),
    "2NF": N_("North Africa"),
    "2NT": N_("NAFTA countries"),
    "2SC": N_("Scandinavia"),
    "2WI": N_("West Indies"),
}


def territory_name(code: str, locale: str) -> str:
    """``"UY"`` → ``"Uruguay"``; ``"ES"`` → ``"Espanha"`` (pt); ``"2WL"`` → ``"Mundo"`` (es)."""
    raw = str(code or "").strip()
    try:
        tis = ids.parse_territory(raw)
    except InvalidInput:
        return raw
    names = _locale(locale).territories
    if tis in TIS_GROUPS:
        return translations(locale).gettext(TIS_GROUPS[tis])
    name = names.get(CLDR_REGIONS.get(tis, tis))
    if not name:
        return raw
    return name[:1].upper() + name[1:]
