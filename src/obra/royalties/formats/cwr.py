"""CISAC CWR 2.1 / 2.2 (Common Works Registration) files: repertoire in, validated.

A CWR file is fixed-width text. Every record starts with its type (3 characters) and,
inside groups, a transaction sequence number and a record sequence number (8 digits
each). The file is ``HDR``, then groups (``GRH`` … ``GRT``) of transactions, then ``TRL``.
A work registration transaction is ``NWR`` (new) or ``REV`` (revised) followed by its
detail records:

* ``SPU``/``OPU`` publishers (controlled by the sender / other), with ownership shares for
  performing (PR), mechanical (MR) and synchronisation (SR) rights; ``SPT`` the collection
  shares of a controlled publisher per territory (CISAC TIS numeric code, inclusion or
  exclusion);
* ``SWR``/``OWR`` writers, ``SWT`` a controlled writer's collection shares per territory;
  ``PWR`` which publisher represents which writer;
* ``ALT`` alternative titles, ``PER`` performers, ``REC`` recording details, ``ORN`` work
  origin, ``XRF`` (2.2) cross-references; other CISAC record types are accepted and their
  sequence numbers checked, but not interpreted.

**What is checked**, every problem collected with file, line and field and the file
refused whole: record types; HDR first and TRL last; group and transaction structure;
transaction and record sequence numbers (0, 1, 2 …); record lengths (a record may be
shorter than its layout only by trailing blanks, which real files strip, never longer);
numeric, date, flag and share fields; share values (0–100 %); ISWC check digits; TIS
territory codes; and the counts in every ``GRT`` (transactions, records) and in ``TRL``
(groups, transactions, records).

**What comes out**: :class:`CwrFile` with :class:`obra.model.Party` records (one per
interested-party number, keyed ``cwr:<number>`` for the batch import) and
:class:`obra.model.Work` records whose shares are per right type and territory: the
collection shares of controlled parties (from SPT/SWT, most specific territory wins, an
exclusion removes a party from that territory, and within one publisher chain a
sub-publisher for a narrower territory displaces the chain's wider one there) plus the ownership shares of other parties
(OPU/OWR, world-wide). PR maps to ``performance``, MR to ``mechanical`` and SR to ``synchronisation``.
Zero shares are dropped.

**The same party across files.** An Interested Party # (SPU/OPU/SWR/OWR, columns 22-30 and
20-28) is the sender's own number for that party, unique within the sender (CISAC CWR 2.1/2.2),
not across senders. Each party therefore also carries the identifier
``{scheme: "cwr:<HDR Sender ID>", value: <Interested Party #>}``, the scope its works' Submitter
Work # already use. On import (:func:`obra.registry.parties.find_or_insert_party`) a number the
sender used before resolves to the party it named then, so a publisher's monthly files do not
create a new copy of every writer, and their works' shares and contributors point at one party
id; the same number from another sender is another party. An IPI sent with a known number
must agree with the IPI on file (else the file is refused at that line's IPI field, nothing
written); a party known by IPI but not yet by the number gets the number attached. Within one
file, one number with two different IPIs is refused here. A party without an Interested
Party # has nothing to be found by and is created anew, as before.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from obra import ids
from obra.errors import InvalidInput, Problem
from obra.model import Party, Work, parse
from obra.royalties.formats.text import UTF8_BOM, Lines, describe_control, open_binary

# Field layouts: (name, first column, last column, kind, mandatory), columns 1-based inclusive.
# kinds: A text, N digits, D date YYYYMMDD, T time HHMMSS, F flag (Y/N/U/blank), P share 3v2 (%).
_PREFIX = [("Transaction Sequence #", 4, 11, "N", True), ("Record Sequence #", 12, 19, "N", True)]
_SHARES3 = lambda start: [  # noqa: E731 - three society/share pairs at fixed offsets
    ("PR Affiliation Society", start, start + 2, "A", False), ("PR Share", start + 3, start + 7, "P", False),
    ("MR Society", start + 8, start + 10, "A", False), ("MR Share", start + 11, start + 15, "P", False),
    ("SR Society", start + 16, start + 18, "A", False), ("SR Share", start + 19, start + 23, "P", False)]

LAYOUTS: dict[str, list[tuple[str, int, int, str, bool]]] = {
    "HDR": [("Sender Type", 4, 5, "A", True), ("Sender ID", 6, 14, "A", True), ("Sender Name", 15, 59, "A", True),
            ("EDI Standard Version", 60, 64, "A", True), ("Creation Date", 65, 72, "D", True),
            ("Creation Time", 73, 78, "T", True), ("Transmission Date", 79, 86, "D", True),
            ("Character Set", 87, 101, "A", False), ("CWR Version", 102, 104, "A", False),
            ("CWR Revision", 105, 107, "N", False), ("Software Package", 108, 137, "A", False),
            ("Software Package Version", 138, 167, "A", False)],
    "GRH": [("Transaction Type", 4, 6, "A", True), ("Group ID", 7, 11, "N", True),
            ("Version Number", 12, 16, "A", True), ("Batch Request", 17, 26, "N", False),
            ("Submission/Distribution Type", 27, 28, "A", False)],
    "GRT": [("Group ID", 4, 8, "N", True), ("Transaction Count", 9, 16, "N", True),
            ("Record Count", 17, 24, "N", True), ("Currency Indicator", 25, 27, "A", False),
            ("Total Monetary Value", 28, 37, "N", False)],
    "TRL": [("Group Count", 4, 8, "N", True), ("Transaction Count", 9, 16, "N", True),
            ("Record Count", 17, 24, "N", True)],
    "NWR": _PREFIX + [
        ("Work Title", 20, 79, "A", True), ("Language Code", 80, 81, "A", False),
        ("Submitter Work #", 82, 95, "A", True), ("ISWC", 96, 106, "A", False),
        ("Copyright Date", 107, 114, "D", False), ("Copyright Number", 115, 126, "A", False),
        ("Musical Work Distribution Category", 127, 129, "A", True), ("Duration", 130, 135, "T", False),
        ("Recorded Indicator", 136, 136, "F", True), ("Text Music Relationship", 137, 139, "A", False),
        ("Composite Type", 140, 142, "A", False), ("Version Type", 143, 145, "A", True),
        ("Excerpt Type", 146, 148, "A", False), ("Music Arrangement", 149, 151, "A", False),
        ("Lyric Adaptation", 152, 154, "A", False), ("Contact Name", 155, 184, "A", False),
        ("Contact ID", 185, 194, "A", False), ("CWR Work Type", 195, 196, "A", False),
        ("Grand Rights Ind", 197, 197, "F", False), ("Composite Component Count", 198, 200, "N", False),
        ("Date of Publication of Printed Edition", 201, 208, "D", False), ("Exceptional Clause", 209, 209, "F", False),
        ("Opus Number", 210, 234, "A", False), ("Catalogue Number", 235, 259, "A", False),
        ("Priority Flag", 260, 260, "F", False)],
    "SPU": _PREFIX + [
        ("Publisher Sequence #", 20, 21, "N", True), ("Interested Party #", 22, 30, "A", False),
        ("Publisher Name", 31, 75, "A", False), ("Publisher Unknown Indicator", 76, 76, "F", False),
        ("Publisher Type", 77, 78, "A", False), ("Tax ID #", 79, 87, "A", False),
        ("Publisher IPI Name #", 88, 98, "A", False), ("Submitter Agreement Number", 99, 112, "A", False),
        *_SHARES3(113), ("Special Agreements Indicator", 137, 137, "A", False),
        ("First Recording Refusal Ind", 138, 138, "F", False), ("Filler", 139, 139, "A", False),
        ("Publisher IPI Base Number", 140, 152, "A", False),
        ("International Standard Agreement Code", 153, 166, "A", False),
        ("Society-assigned Agreement Number", 167, 180, "A", False), ("Agreement Type", 181, 182, "A", False),
        ("USA License Ind", 183, 183, "A", False)],
    "SPT": _PREFIX + [
        ("Interested Party #", 20, 28, "A", True), ("Constant", 29, 34, "A", False),
        ("PR Collection Share", 35, 39, "P", False), ("MR Collection Share", 40, 44, "P", False),
        ("SR Collection Share", 45, 49, "P", False), ("Inclusion/ Exclusion Indicator", 50, 50, "A", True),
        ("TIS Numeric Code", 51, 54, "N", True), ("Shares Change", 55, 55, "F", False),
        ("Sequence #", 56, 58, "N", False)],
    "SWR": _PREFIX + [
        ("Interested Party #", 20, 28, "A", False), ("Writer Last Name", 29, 73, "A", False),
        ("Writer First Name", 74, 103, "A", False), ("Writer Unknown Indicator", 104, 104, "F", False),
        ("Writer Designation Code", 105, 106, "A", False), ("Tax ID #", 107, 115, "A", False),
        ("Writer IPI Name #", 116, 126, "A", False), *_SHARES3(127),
        ("Reversionary Indicator", 151, 151, "F", False), ("First Recording Refusal Ind", 152, 152, "F", False),
        ("Work For Hire Indicator", 153, 153, "F", False), ("Filler", 154, 154, "A", False),
        ("Writer IPI Base Number", 155, 167, "A", False), ("Personal Number", 168, 179, "A", False),
        ("USA License Ind", 180, 180, "A", False)],
    "SWT": _PREFIX + [
        ("Interested Party #", 20, 28, "A", False), ("PR Collection Share", 29, 33, "P", False),
        ("MR Collection Share", 34, 38, "P", False), ("SR Collection Share", 39, 43, "P", False),
        ("Inclusion/ Exclusion Indicator", 44, 44, "A", True), ("TIS Numeric Code", 45, 48, "N", True),
        ("Shares Change", 49, 49, "F", False), ("Sequence #", 50, 52, "N", False)],
    "PWR": _PREFIX + [
        ("Publisher IP #", 20, 28, "A", False), ("Publisher Name", 29, 73, "A", False),
        ("Submitter Agreement Number", 74, 87, "A", False),
        ("Society-assigned Agreement Number", 88, 101, "A", False), ("Writer IP #", 102, 110, "A", False),
        ("Publisher Sequence #", 111, 112, "N", False)],
    "ALT": _PREFIX + [("Alternate Title", 20, 79, "A", True), ("Title Type", 80, 81, "A", True),
                      ("Language Code", 82, 83, "A", False)],
    "PER": _PREFIX + [("Performing Artist Last Name", 20, 64, "A", True),
                      ("Performing Artist First Name", 65, 94, "A", False),
                      ("Performing Artist IPI Name #", 95, 105, "A", False),
                      ("Performing Artist IPI Base Number", 106, 118, "A", False)],
    "REC": _PREFIX + [("First Release Date", 20, 27, "D", False), ("First Release Duration", 88, 93, "T", False),
                      ("First Album Title", 99, 158, "A", False), ("First Album Label", 159, 218, "A", False),
                      ("First Release Catalog #", 219, 236, "A", False), ("EAN", 237, 249, "A", False),
                      ("ISRC", 250, 261, "A", False)],
    "XRF": _PREFIX + [("Organisation Code", 20, 22, "A", True), ("Identifier", 23, 36, "A", True),
                      ("Identifier Type", 37, 37, "A", True), ("Validity", 38, 38, "A", True)],
}
LAYOUTS["REV"] = LAYOUTS["NWR"]
LAYOUTS["OPU"] = LAYOUTS["SPU"]
LAYOUTS["OWR"] = LAYOUTS["SWR"]
# The longest a record may be, per version (2.2 added PWR's publisher sequence, REC's titles).
_MAX_LENGTH = {"HDR": {"2.1": 101, "2.2": 167}, "PWR": {"2.1": 110, "2.2": 112}}
_OPEN_LENGTH = {"REC", "ORN"}  # longer variants across revisions: checked up to what we read

TRANSACTION_TYPES = {"NWR", "REV", "ISW", "EXC", "ACK", "AGR"}
DETAIL_TYPES = {"SPU", "OPU", "SPT", "SWR", "OWR", "SWT", "PWR", "ALT", "PER", "REC", "ORN", "XRF", "EWT",
                "VER", "COM", "INS", "IND", "MSG", "TER", "IPA", "NPN", "NWN", "NAT", "NET", "NCT", "NVT",
                "NOW", "NPA", "NPR", "ARI", "OWK", "OPT", "OWT"}

RIGHTS = {"PR": "performance", "MR": "mechanical", "SR": "synchronisation"}
WRITER_ROLES = {"C": "composer", "CA": "composer", "A": "lyricist", "AR": "arranger", "SA": "arranger",
                "AD": "author", "SR": "author", "TR": "translator", "PA": "author"}
PUBLISHER_ROLES = {"E": "publisher", "AQ": "publisher", "PA": "publisher", "AM": "administrator",
                   "SE": "sub_publisher", "ES": "sub_publisher"}


@dataclass
class CwrFile:
    """A validated CWR file: who sent it, and the parties and works it registers."""

    source: str
    version: str
    sender: dict[str, str]
    parties: list[Party] = field(default_factory=list)
    works: list[Work] = field(default_factory=list)
    work_lines: list[int] = field(default_factory=list)
    work_kinds: list[str] = field(default_factory=list)  # NWR or REV, per work
    party_lines: list[int] = field(default_factory=list)
    transactions: dict[str, int] = field(default_factory=dict)
    groups: int = 0
    records: int = 0

    def locations(self) -> dict[tuple[str, int], int]:
        """(section, index) → line, for :func:`obra.registry.batch.import_records` messages."""
        return ({("works", i): line for i, line in enumerate(self.work_lines)}
                | {("parties", i): line for i, line in enumerate(self.party_lines)})


#: Problems collected before the reader stops reading a file it will refuse anyway.
MAX_PROBLEMS = 10_000
#: The longest line read: the longest CWR 2.2 record is under 600 characters.
MAX_RECORD_BYTES = 64 << 10
# HDR Character Set (columns 87-101; blank means ASCII) → the codec that reads the file.
CHARACTER_SETS = {"": "ascii", "ASCII": "ascii", "UTF-8": "utf-8", "UTF8": "utf-8", "UNICODE": "utf-8",
                  "TRADITIONAL BIG5": "big5", "BIG5": "big5", "SIMPLIFIED GB": "gb18030", "GB": "gb18030"}
_CONTROL = re.compile("[\x00-\x1f\x7f]")


def _codec(declared: str | None, line: int, problem) -> str:
    """The codec for the HDR's Character Set. Blank (ASCII, the CWR default) is read as UTF-8,
    of which ASCII is a part, so that a sender who writes UTF-8 without declaring it is read right."""
    text = " ".join((declared or "").split()).upper()
    # the code list's "Traditional Big5" is one character longer than the 15-column field
    codec = CHARACTER_SETS.get(text) or ("big5" if text.startswith("TRADITIONAL BIG") else None)
    if codec is None:
        problem(f"unknown character set '{declared}': use ASCII (blank), UTF-8, Traditional Big5 or "
                "Simplified GB", line, "Character Set")
        return "utf-8"
    return "utf-8" if codec == "ascii" else codec


def _field_at(text: str, column: int) -> str | None:
    """The name of the field at ``column`` (1-based) of a record, as its layout says."""
    rtype = text[:3]
    if column <= 3:
        return "Record Type"
    for fname, start, end, _kind, _m in LAYOUTS.get(rtype, ()):
        if start <= column <= end:
            return fname
    return f"column {column}"


def _decode(raw: bytes, codec: str, line: int, problem) -> str:
    """One record as text: a byte the character set does not have, or a control character, is a
    problem at its field (the record is then read with the byte replaced, so the rest is checked)."""
    try:
        text = raw.decode(codec)
    except UnicodeDecodeError as exc:
        text = raw.decode(codec, "replace")
        before = raw[:exc.start].decode(codec, "replace")
        declared = "ASCII or UTF-8" if codec == "utf-8" else codec
        problem(f"byte {exc.start + 1} of the record is not {declared} text: CWR files are ASCII unless the HDR "
                "record's Character Set (columns 87-101) says otherwise; save the file as UTF-8 (or ASCII) "
                "and send it again", line, _field_at(text, len(before) + 1))
    control = _CONTROL.search(text)
    if control is not None:
        problem(f"{describe_control(control.group())}: CWR records are printable text", line,
                _field_at(text, control.start() + 1))
    return text


def _cut(text: str, start: int, end: int) -> str:
    return text[start - 1:end]


def _read(rtype: str, text: str, line: int, version: str, problem) -> dict[str, Any]:
    layout = LAYOUTS[rtype]
    last = max(end for _, _, end, _, _ in layout)
    limit = _MAX_LENGTH.get(rtype, {}).get(version, last)
    if rtype not in _OPEN_LENGTH and len(text) > limit and text[limit:].strip():
        problem(f"{rtype} record is {len(text)} characters long; a CWR {version} {rtype} record has {limit}",
                line, "Record Length")
    padded = text.ljust(last)
    out: dict[str, Any] = {}
    for name, start, end, kind, mandatory in layout:
        raw = _cut(padded, start, end)
        value = raw.strip()
        if not value:
            if mandatory:
                problem(f"is required (columns {start}-{end})", line, name)
            out[name] = None
            continue
        if kind == "N" and not ids.ascii_digits(raw):
            problem(f"'{raw}' must be digits (columns {start}-{end})", line, name)
        elif kind == "P":
            if not ids.ascii_digits(raw):
                problem(f"'{raw}' is not a share: 5 digits, percent with 2 decimals (05000 = 50%)", line, name)
                value = None
            else:
                value = Decimal(int(raw)) / 100
                if value > 100:
                    problem(f"share {value}% is over 100%", line, name)
        elif kind == "D" and not re.fullmatch(r"\d{8}", raw):
            problem(f"'{raw}' is not a date YYYYMMDD", line, name)
        elif kind == "T" and not re.fullmatch(r"\d{6}", raw):
            problem(f"'{raw}' is not a time or duration HHMMSS", line, name)
        elif kind == "F" and value not in ("Y", "N", "U"):
            problem(f"'{value}' is not a flag (Y, N or U)", line, name)
        out[name] = value
    return out


def _tis(code: str | None, line: int, fieldname: str, problem) -> str | None:
    if not code:
        return None
    try:
        return ids.parse_territory(code.lstrip("0") if code != "0000" else code)
    except InvalidInput:
        problem(f"'{code}' is not a CISAC TIS territory code (2136 = World, 0056 = Belgium)", line, fieldname)
        return None


@dataclass
class _Interest:
    number: str
    name: str
    kind: str  # publisher | writer
    role: str
    controlled: bool
    line: int
    ipi: str | None = None
    chain: str | None = None
    numbered: bool = True  # False: no Interested Party # in the file, ``number`` is a placeholder
    ownership: dict[str, Decimal] = field(default_factory=dict)
    territories: list[tuple[bool, str, dict[str, Decimal]]] = field(default_factory=list)


@dataclass
class _Transaction:
    kind: str
    line: int
    head: dict[str, Any]
    interests: list[_Interest] = field(default_factory=list)
    alternate_titles: list[dict] = field(default_factory=list)
    performers: list[str] = field(default_factory=list)


def parse_cwr(path: str | Path, *, display_name: str | None = None) -> CwrFile:
    """Validate a CWR 2.1/2.2 file and return its parties and works, or raise with every problem."""
    path = Path(path)
    name = display_name or path.name
    problems: list[Problem] = []

    def problem(message: str, line: int, fld: str | None = None) -> None:
        problems.append(Problem(message, field=fld, line=line, source=name))
        if len(problems) >= MAX_PROBLEMS:   # refused anyway: reading on would only cost time
            problems.append(Problem(f"stopped reading after {MAX_PROBLEMS:,} problems; fix these and send the "
                                    "file again", line=line, source=name))
            raise InvalidInput(problems)

    result = CwrFile(source=name, version="2.1", sender={})
    transactions: list[_Transaction] = []
    group: dict[str, Any] | None = None
    tx: _Transaction | None = None
    tx_seq = rec_seq = 0
    total_tx = 0
    line = 0
    seen_hdr = seen_trl = False
    codec = "utf-8"
    blank_run: tuple[int, int] | None = None        # (first line, index of its problem)
    with open_binary(path) as fh:
        lines = Lines(fh, name, MAX_RECORD_BYTES)
        for raw in lines:
            line = lines.line
            if line == 1 and raw.startswith(UTF8_BOM):
                raw = raw[len(UTF8_BOM):]
            raw = raw[:-1] if raw.endswith(b"\n") else raw
            raw = raw[:-1] if raw.endswith(b"\r") else raw
            if not raw.strip():
                if seen_trl:
                    continue
                if blank_run is None:       # a run of empty lines is one problem, however long
                    first = line - max(lines.blanks, 1) + 1
                    problem("empty line (CWR has one record per line)" if first == line else
                            f"empty lines (CWR has one record per line): {line - first + 1:,} lines, "
                            f"{first}-{line}", first)
                    blank_run = (first, len(problems) - 1)
                else:
                    problems[blank_run[1]] = Problem(
                        f"empty lines (CWR has one record per line): {line - blank_run[0] + 1:,} lines, "
                        f"{blank_run[0]}-{line}", line=blank_run[0], source=name)
                continue
            blank_run = None
            text = _decode(raw, codec, line, problem)
            if seen_trl:
                problem("content after the TRL record (TRL must be last)", line)
                continue
            rtype = text[:3]
            result.records += 1
            if line == 1 and rtype != "HDR":
                problem(f"the first record must be HDR, found '{rtype}'", line, "Record Type")
            if rtype == "HDR":
                if seen_hdr:
                    problem("a second HDR record", line, "Record Type")
                seen_hdr = True
                hdr = _read("HDR", text, line, "2.2", problem)
                result.version = "2.2" if (hdr.get("CWR Version") or "").startswith("2.2") else "2.1"
                if result.version == "2.1" and len(text) > 101 and text[101:].strip():
                    problem(f"HDR is {len(text)} characters; a CWR 2.1 HDR has 101 (2.2 adds the "
                            "CWR version in columns 102-104)", line, "Record Length")
                result.sender = {k: v for k, v in hdr.items() if v}
                codec = _codec(hdr.get("Character Set"), line, problem)
            elif rtype == "GRH":
                grh = _read("GRH", text, line, result.version, problem)
                if group is not None:
                    problem("GRH before the previous group's GRT", line, "Record Type")
                version = grh.get("Version Number") or ""
                if version and version not in ("02.10", "02.20"):
                    problem(f"version '{version}' is not CWR 2.1 (02.10) or 2.2 (02.20)", line,
                            "Version Number")
                group = {"type": grh.get("Transaction Type"), "id": grh.get("Group ID"),
                         "records": 1, "transactions": 0, "line": line}
                result.groups += 1
                tx, tx_seq = None, -1
            elif rtype == "GRT":
                grt = _read("GRT", text, line, result.version, problem)
                if group is None:
                    problem("GRT without a GRH", line, "Record Type")
                    continue
                group["records"] += 1
                if grt.get("Group ID") and grt["Group ID"] != group["id"]:
                    problem(f"GRT closes group {grt['Group ID']} but the open group is {group['id']}",
                            line, "Group ID")
                for fld, actual in (("Transaction Count", group["transactions"]),
                                    ("Record Count", group["records"])):
                    if ids.ascii_digits(grt.get(fld)) and int(grt[fld]) != actual:
                        problem(f"GRT says {int(grt[fld])}, the group holds {actual}"
                                f" ({'GRH and GRT included' if fld == 'Record Count' else 'transactions'})",
                                line, fld)
                group, tx = None, None
            elif rtype == "TRL":
                trl = _read("TRL", text, line, result.version, problem)
                seen_trl = True
                if group is not None:
                    problem("TRL inside an open group (missing GRT)", line, "Record Type")
                for fld, actual in (("Group Count", result.groups), ("Transaction Count", total_tx),
                                    ("Record Count", result.records)):
                    if ids.ascii_digits(trl.get(fld)) and int(trl[fld]) != actual:
                        problem(f"TRL says {int(trl[fld])}, the file holds {actual}", line, fld)
            else:
                if group is None:
                    problem(f"{rtype} record outside a group (GRH … GRT)", line, "Record Type")
                    continue
                group["records"] += 1
                if rtype not in TRANSACTION_TYPES and rtype not in DETAIL_TYPES:
                    problem(f"unknown record type '{rtype}'", line, "Record Type")
                    continue
                seq_t, seq_r = text[3:11], text[11:19]
                if not (ids.ascii_digits(seq_t) and ids.ascii_digits(seq_r)):
                    problem("transaction and record sequence numbers must be 8 digits each "
                            "(columns 4-11 and 12-19)", line, "Transaction Sequence #")
                    continue
                if rtype in TRANSACTION_TYPES:
                    tx_seq += 1
                    total_tx += 1
                    group["transactions"] += 1
                    rec_seq = 0
                    if rtype != group["type"] and not (group["type"] in ("NWR", "REV") and rtype in ("NWR", "REV")):
                        problem(f"a {rtype} transaction in a {group['type']} group", line, "Record Type")
                    if int(seq_t) != tx_seq or int(seq_r) != 0:
                        problem(f"transaction sequence should be {tx_seq:08d} and record sequence "
                                f"00000000, found {seq_t} / {seq_r}", line, "Transaction Sequence #")
                        tx_seq = int(seq_t)  # follow the file, so one slip is reported once
                    if rtype in ("NWR", "REV"):
                        tx = _Transaction(rtype, line, _read(rtype, text, line, result.version, problem))
                        transactions.append(tx)
                    else:
                        tx = _Transaction(rtype, line, {})
                    continue
                if tx is None:
                    problem(f"{rtype} detail record before any transaction header", line, "Record Type")
                    continue
                rec_seq += 1
                if int(seq_t) != tx_seq or int(seq_r) != rec_seq:
                    problem(f"sequence numbers should be {tx_seq:08d} / {rec_seq:08d}, found {seq_t} / {seq_r}",
                            line, "Record Sequence #")
                    rec_seq = int(seq_r)
                if rtype in LAYOUTS and tx.kind in ("NWR", "REV"):
                    _detail(tx, rtype, _read(rtype, text, line, result.version, problem), line, problem)
    if not seen_hdr:
        problem("no HDR record", 1, "Record Type")
    if not seen_trl:
        problem("no TRL record: the file is truncated", max(line, 1), "Record Type")
    for t in transactions:
        result.transactions[t.kind] = result.transactions.get(t.kind, 0) + 1
    if not problems:
        _build(result, transactions, problem)
    if problems:
        raise InvalidInput(problems)
    return result


def _detail(tx: _Transaction, rtype: str, rec: dict[str, Any], line: int, problem) -> None:
    if rtype in ("SPU", "OPU"):
        ptype = rec.get("Publisher Type") or ""
        tx.interests.append(_Interest(
            number=rec.get("Interested Party #") or f"line{line}", name=rec.get("Publisher Name") or "",
            kind="publisher", role=PUBLISHER_ROLES.get(ptype, "publisher"), controlled=rtype == "SPU",
            line=line, ipi=_ipi(rec.get("Publisher IPI Name #")), chain=rec.get("Publisher Sequence #"),
            numbered=bool(rec.get("Interested Party #")),
            ownership={r: rec.get(f"{r} Share") or Decimal(0) for r in ("PR", "MR", "SR")}))
        if rtype == "SPU" and not rec.get("Publisher Name"):
            problem("a controlled publisher needs a name", line, "Publisher Name")
    elif rtype in ("SWR", "OWR"):
        first, last = rec.get("Writer First Name") or "", rec.get("Writer Last Name") or ""
        designation = rec.get("Writer Designation Code") or ""
        if rtype == "SWR" and not last:
            problem("a controlled writer needs a last name", line, "Writer Last Name")
        tx.interests.append(_Interest(
            number=rec.get("Interested Party #") or f"line{line}",
            name=" ".join(p for p in (first, last) if p) or "Unknown writer", kind="writer",
            role=WRITER_ROLES.get(designation, "author"), controlled=rtype == "SWR", line=line,
            ipi=_ipi(rec.get("Writer IPI Name #")), numbered=bool(rec.get("Interested Party #")),
            ownership={r: rec.get(f"{r} Share") or Decimal(0) for r in ("PR", "MR", "SR")}))
    elif rtype in ("SPT", "SWT"):
        owner_kind = "publisher" if rtype == "SPT" else "writer"
        number = rec.get("Interested Party #")
        owner = next((i for i in reversed(tx.interests) if i.kind == owner_kind
                      and (number is None or i.number == number)), None)
        if owner is None:
            problem(f"{rtype} for interested party '{number}', which no preceding "
                    f"{'SPU' if rtype == 'SPT' else 'SWR'} record names", line, "Interested Party #")
            return
        territory = _tis(rec.get("TIS Numeric Code"), line, "TIS Numeric Code", problem)
        flag = rec.get("Inclusion/ Exclusion Indicator")
        if flag not in ("I", "E"):
            problem(f"'{flag}' must be I (inclusion) or E (exclusion)", line, "Inclusion/ Exclusion Indicator")
            return
        if territory:
            owner.territories.append((flag == "I", territory, {
                r: rec.get(f"{r} Collection Share") or Decimal(0) for r in ("PR", "MR", "SR")}))
    elif rtype == "ALT":
        tx.alternate_titles.append({"title": rec["Alternate Title"], "kind": _TITLE_TYPES.get(
            rec.get("Title Type") or "", "alternate"), "language": (rec.get("Language Code") or "").lower() or None})
    elif rtype == "PER":
        tx.performers.append(" ".join(p for p in (rec.get("Performing Artist First Name"),
                                                   rec.get("Performing Artist Last Name")) if p))


_TITLE_TYPES = {"AT": "alternate", "TE": "first_line", "FT": "formal", "IT": "incorrect", "OT": "original",
                "TT": "translated", "PT": "part", "RT": "restricted", "ET": "extra_search",
                "OL": "original_language", "AL": "alternate_language"}


def _ipi(value: str | None) -> str | None:
    return value if value and value.strip("0") else None


def _covers(group: str, territory: str) -> bool:
    return ids.territory_countries(territory) <= ids.territory_countries(group)


def _collecting(interest: _Interest, territory: str) -> tuple[int, dict[str, Decimal]] | None:
    """(specificity, collection shares) of a controlled party in ``territory``, or None."""
    if any(not inc and _covers(t, territory) for inc, t, _ in interest.territories):
        return None
    covering = [(len(ids.territory_countries(t)), s) for inc, t, s in interest.territories
                if inc and _covers(t, territory)]
    return min(covering, key=lambda c: c[0]) if covering else None


def _shares(tx: _Transaction) -> list[dict]:
    """Shares per right type and territory (see the module docstring for the rule).

    Within one publisher chain (same publisher sequence number) the party with the most
    specific territory collects there: a sub-publisher for the Netherlands displaces the
    chain's world-wide sub-publisher in the Netherlands only.
    """
    territories = {t for i in tx.interests for _, t, _ in i.territories} or {"2WL"}
    if any(not i.territories and not (i.controlled and i.kind == "publisher") for i in tx.interests):
        territories.add("2WL")
    totals: dict[tuple[str, str, str, str], Decimal] = defaultdict(Decimal)
    for territory in sorted(territories):
        chains: dict[str, list[tuple[int, _Interest, dict[str, Decimal]]]] = defaultdict(list)
        for interest in tx.interests:
            if interest.controlled and interest.kind == "publisher" and not interest.territories:
                continue  # collects only through SPT; a publisher without one is represented by its chain
            if interest.controlled and interest.territories:
                found = _collecting(interest, territory)
                if found is None:
                    continue
                chain = interest.chain if interest.kind == "publisher" and interest.chain else f"#{id(interest)}"
                chains[chain].append((found[0], interest, found[1]))
            else:
                chains[f"#{id(interest)}"].append((0, interest, interest.ownership))
        for members in chains.values():
            best = min(m[0] for m in members)
            for specificity, interest, values in members:
                if specificity != best:
                    continue
                for code, right in RIGHTS.items():
                    if values.get(code):
                        totals[(f"cwr:{interest.number}", interest.role, right, territory)] += values[code]
    return [{"party": p, "role": role, "right_type": right, "territory": t, "share": str(v)}
            for (p, role, right, t), v in sorted(totals.items()) if v]


def sender_of(result: CwrFile) -> str:
    """Whose numbering this file uses: the HDR Sender ID (name if absent), the scope of every
    Submitter Work # and Interested Party # in it (``cwr:<sender>``)."""
    return result.sender.get("Sender ID") or result.sender.get("Sender Name") or "unknown"


_sender = sender_of


def _build(result: CwrFile, transactions: list[_Transaction], problem) -> None:
    scheme = f"cwr:{_sender(result)}"
    known: dict[str, Party] = {}
    lines: dict[str, int] = {}
    for tx in transactions:
        for interest in tx.interests:
            key = f"cwr:{interest.number}"
            ipi_field = "Publisher IPI Name #" if interest.kind == "publisher" else "Writer IPI Name #"
            if key in known:
                _same_party(known, key, interest, lines[key], ipi_field, problem)
                continue
            data = {"key": key, "name": interest.name or f"Unknown {interest.kind}",
                    "kind": "organisation" if interest.kind == "publisher" else "person",
                    "roles": [interest.role], "ipi": interest.ipi}
            if interest.numbered:
                # The sender's own number for the party: a later file of the same sender that
                # uses it again means the same party (obra.registry.parties.find_or_insert_party).
                data["identifiers"] = [{"scheme": scheme, "value": interest.number}]
            try:
                known[key] = parse(Party, data, source=result.source, line=interest.line)
                lines[key] = interest.line
            except InvalidInput as exc:
                for p in exc.problems:
                    fld = {"ipi": ipi_field}.get(p.field or "", p.field)
                    problem(p.message, interest.line, fld)
        head = tx.head
        iswc = head.get("ISWC")
        data: dict[str, Any] = {
            "title": head.get("Work Title") or "",
            "iswc": iswc,
            "language": (head.get("Language Code") or "").lower() or None,
            "alternate_titles": tx.alternate_titles,
            "contributors": [{"party": f"cwr:{i.number}", "role": i.role}
                             for i in tx.interests if i.kind == "writer"],
            "shares": _shares(tx),
        }
        if head.get("Submitter Work #"):
            # The submitter's own number, scoped by sender, is how a later REV finds this work.
            data["identifiers"] = [{"scheme": scheme, "value": head["Submitter Work #"]}]
        try:
            result.works.append(parse(Work, data, source=result.source, line=tx.line))
            result.work_lines.append(tx.line)
            result.work_kinds.append(tx.kind)
        except InvalidInput as exc:
            for p in exc.problems:
                fld = {"iswc": "ISWC", "title": "Work Title"}.get(p.field or "", p.field)
                problem(p.message, tx.line, fld)
    result.parties = list(known.values())
    result.party_lines = [lines[k] for k in known]


def _same_party(known: dict[str, Party], key: str, interest: _Interest, first_line: int, ipi_field: str,
                problem) -> None:
    """A party number met again in the same file: its IPI must agree with the first mention's.

    A later mention may supply the IPI the first one left blank (the party then carries it);
    two different IPIs for one number are refused at the later line, as the registry would
    refuse them across files.
    """
    party = known[key]
    if not interest.ipi:
        return
    try:
        ipi = ids.parse_ipi_name(interest.ipi, field=ipi_field)
    except InvalidInput as exc:
        for p in exc.problems:
            problem(p.message, interest.line, ipi_field)
        return
    if party.ipi is None:
        known[key] = party.model_copy(update={"ipi": ipi})
    elif party.ipi != ipi:
        problem(f"IPI {ipi} for interested party #{interest.number}, which line {first_line} gave IPI "
                f"{party.ipi}: one party number, one IPI name number", interest.line, ipi_field)
