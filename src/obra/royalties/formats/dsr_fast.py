"""The fast DSR reader: blocks validated and turned into usage rows column by column, with Arrow.

:class:`obra.royalties.formats.dsr_reference.ReferenceParser` is the specification (a row-by-row checker, about
30,000 usage lines a second). Real reports are millions of lines of a few record types, so
this reader takes the file in chunks of complete lines and does the per-cell work on whole
columns: it splits a chunk into cells with numpy (no Python object per line), checks every
cell with the same rules (strict regular expressions for numbers and dates; the reference's
own check on the *distinct* values for territories, durations and identifiers that do not
have the plain canonical form), and resolves each usage record's summary, resource, work and
release with array lookups within its block.

It never reports a problem itself. The reference parser stays the one place that decides
what is wrong and how to say it, and the one that holds the stream's state:

* lines that are not plain block records (HEAD, SY summaries, ``#`` comments and column
  declarations, FOOT and anything after it, blank or unknown lines) are fed to it;
* a block in which any vectorised check fails, or whose usage the fast path cannot
  convert exactly, is fed to it whole (it then names every problem, in its order);
* for the blocks the fast path did take, it advances the parser's counts (lines, blocks,
  usage lines) and leaves it a closed block with the last block id, which is exactly the
  state the parser would have reached; the fast path resumes at the next block start whose
  previous block closes cleanly.

So a valid file yields the same usage lines, pools and report as
:func:`obra.royalties.formats.dsr_reference.parse_dsr_reference`, and an invalid one the same
problems. A file
whose bytes the chunked reading cannot vouch for (not UTF-8, a bare carriage-return line
break, an unreadable gzip stream) is read again by the reference parser from the start,
since there the line it names depends on how the text stream decodes. Memory is bounded by
a chunk (32 MB of text by default) and the summary table.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Callable

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from obra.errors import InvalidInput
from obra.royalties.formats.dsr_reference import Block, ReferenceParser, Report, parse_dsr_reference, summary_dimensions
from obra.royalties.formats.dsr_spec import (BOOLEAN_CELLS, DATE_CELLS, DECIMAL_CELLS, DURATION_CELLS, INTEGER_CELLS,
                                             MULTI_VALUE_CELLS, RECORDS, UGC_USAGE_RECORD_TYPES, USAGE_RECORD_TYPES,
                                             cell_checker, duration_seconds)
from obra.royalties.formats.text import (CONTROL_CHARACTERS, UTF8_BOM, first_long_line, has_control_bytes, limits,
                                         line_too_long, open_binary)
from obra.royalties.records import USAGE_LINES_SCHEMA, UsageLine

CHUNK_BYTES = 32 << 20
EMIT_ROWS = 200_000
BLOCK_TYPES = tuple(t for t in RECORDS if t not in ("HEAD", "FOOT") and not t.startswith("SY"))

# Strict forms of the simple cell types (ASCII digits only): anything they refuse goes to the
# reference parser, which may still accept it (Python's \d takes any Unicode digit).
_SIMPLE = {"int": r"-?[0-9]+", "dec": r"-?[0-9]+(?:\.[0-9]+)?",
           "date": r"(?:[0-9]{4}(?:-[0-9]{2}(?:-[0-9]{2})?)?|[0-9]{8})",
           "bool": r"(?:[Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])"}
_PLAYS = r"^-?[0-9]{1,18}$"          # fits int64 exactly
_RU_PART = r"^-?[0-9]{1,15}$"        # a sum of up to 1,000 such parts fits int64
_REVENUE_EXACT = r"^-?[0-9]{1,18}(\.[0-9]{1,10})?$"   # casts to decimal128(38,10) without rounding
_ISRC_CANONICAL = r"^[A-Z]{2}[A-Z0-9]{3}[0-9]{7}[\t\n]$"   # with the cell's delimiter
_ISWC_CANONICAL = r"^T[0-9]{10}[\t\n]$"


def _simple_regex(name: str) -> str | None:
    kinds = [k for k, names in (("int", INTEGER_CELLS), ("dec", DECIMAL_CELLS), ("date", DATE_CELLS),
                                ("bool", BOOLEAN_CELLS)) if name in names]
    if len(kinds) != 1 or name in DURATION_CELLS or name in ("ISRC", "ISWC", "Territory", "Currency",
                                                              "ExchangeRateBaseCurrency"):
        return None
    part = _SIMPLE[kinds[0]]
    body = f"(?:{part})?(?:\\|(?:{part})?)*" if name in MULTI_VALUE_CELLS else part
    return f"^{body}[\\t\\n]$"          # cells are checked with their delimiter (see _Window)


class _Restart(Exception):
    """The bytes need the reference parser's own text stream (decoding, line breaks, gzip errors)."""


class _Window:
    """A chunk of complete lines split into cells, without copying the text.

    ``cells`` is one Arrow string array over the chunk's own bytes in which each value is a
    cell *followed by its delimiter* (tab or line feed), so the offsets are simply the
    delimiter positions; :meth:`take` fetches cells and drops that last character.
    """

    def __init__(self, data: bytes, max_field: int):
        if b"\r" in data:
            clean = data.replace(b"\r\n", b"\n")
            if b"\r" in clean:
                raise _Restart()
            ends = np.flatnonzero(np.frombuffer(data, np.uint8) == 10)
        else:
            clean, ends = data, None
        raw = np.frombuffer(clean, np.uint8)
        dpos = np.flatnonzero((raw == 9) | (raw == 10))
        nl = np.flatnonzero(raw[dpos] == 10)
        self.data = data
        self.start = 0                                                   # byte offset of row 0 in data
        self.n = len(nl)
        self.line_end = ends if ends is not None else dpos[nl]          # byte offset of each \n in data
        self.first_cell = np.empty(self.n, np.int64)
        self.first_cell[:1] = 0
        self.first_cell[1:] = nl[:-1] + 1
        self.n_values = nl - self.first_cell                             # cells after the record type
        large = len(clean) >= 2 ** 31 - 1
        offsets = np.empty(len(dpos) + 1, np.int64 if large else np.int32)
        offsets[0] = 0
        offsets[1:] = dpos
        offsets[1:] += 1
        self.lengths = np.diff(offsets) - 1                              # cell lengths in bytes
        # Rows only the reference may judge: a control character (NUL, ESC …) or a cell past the
        # field limit. The fast path hands them over as it does any line that is not a plain record.
        self.odd = np.zeros(self.n, bool)
        if has_control_bytes(clean):
            at = np.flatnonzero(_CONTROL_TABLE[raw])
            self.odd[np.searchsorted(dpos[nl], at)] = True
        if len(self.lengths) and int(self.lengths.max()) > max_field:
            cells = np.flatnonzero(self.lengths > max_field)
            self.odd[np.searchsorted(nl, cells)] = True
        # Rows that are empty (a line break alone): read in runs, whatever their number.
        self.blank = (self.n_values == 0) & (self.lengths[self.first_cell] == 0) if self.n else np.zeros(0, bool)
        kind = pa.LargeStringArray if large else pa.StringArray
        self.cells = kind.from_buffers(len(dpos), pa.py_buffer(offsets), pa.py_buffer(clean))
        if not clean.isascii():
            try:
                self.cells.validate(full=True)
            except pa.ArrowInvalid as exc:       # not UTF-8: the reference reports where
                raise _Restart() from exc

    def take(self, idx: np.ndarray, absent: np.ndarray | None = None, strip: bool = True) -> pa.Array:
        """The cells at ``idx`` (null where ``absent``), without their delimiters unless ``strip``
        is False."""
        got = self.cells.take(pa.array(idx) if absent is None else pa.array(idx, mask=absent))
        if strip:
            got = pc.utf8_slice_codeunits(got, 0, -1)
        return got if got.type == pa.string() else got.cast(pa.string())

    def view(self, r0: int) -> "_Window":
        """The same window from row ``r0`` on (nothing is split again)."""
        if r0 == 0:
            return self
        v = object.__new__(_Window)
        v.data, v.cells, v.lengths = self.data, self.cells, self.lengths
        v.start = int(self.line_end[r0 - 1]) + 1
        v.n = self.n - r0
        v.first_cell, v.n_values, v.line_end = self.first_cell[r0:], self.n_values[r0:], self.line_end[r0:]
        v.odd, v.blank = self.odd[r0:], self.blank[r0:]
        return v

    def row_at(self, offset: int) -> int | None:
        """The row that starts at byte ``offset`` of the data, if one does."""
        if offset == 0:
            return 0
        r = int(np.searchsorted(self.line_end, offset - 1)) + 1
        return r if r <= self.n and int(self.line_end[r - 1]) + 1 == offset else None

    def line_start(self, row: int) -> int:
        return self.start if row == 0 else int(self.line_end[row - 1]) + 1

    def text(self, row: int) -> str:
        return self.data[self.line_start(row):int(self.line_end[row]) + 1].decode("utf-8")


def _nonempty(a: pa.Array) -> pa.Array:
    """'' → null (the reference reads cells with ``x or None``)."""
    return pc.if_else(pc.equal(a, ""), pa.scalar(None, a.type), a)


def _np_bool(a) -> np.ndarray:
    return np.asarray(pc.fill_null(a, False).to_numpy(zero_copy_only=False), dtype=bool)


class _Reader:
    def __init__(self, path: Path, name: str, on_table: Callable[[pa.Table], None] | None,
                 on_line: Callable[[UsageLine], None] | None,
                 progress: Callable[[int], None] | None, chunk_bytes: int, footer_policy: str = "refuse"):
        self.path, self.name, self.on_table, self.on_line, self.progress = path, name, on_table, on_line, progress
        self.wants_usage = on_table is not None or on_line is not None
        self.chunk_bytes = chunk_bytes
        self.max_field = limits().max_field_bytes
        self.emitted_upto = 0                  # last line handed over (tables or pending)
        self.pending_lines: list[UsageLine] = []     # from the reference parser
        self.pending: list[pa.Table | list[UsageLine]] = []
        self.pending_rows = 0
        self.footer_policy = footer_policy
        self.ref = ReferenceParser(path, name, self._collect, footer_policy=footer_policy)
        self.mode = "ref"                      # the preamble (HEAD, summaries) goes to the reference
        self.ref_until = 0                     # the reference must read up to this line before handing back
        self.good: dict[str, set[str]] = {}    # distinct values the reference's checks accepted
        self._types_key = None
        self.pool: ThreadPoolExecutor | None = None
        self._split: tuple | None = None       # (chunk, offset, _Window, types key, codes) to reuse
        self.fast_lines = 0                    # lines the vectorised path took
        self.restarted = False

    # --- output ------------------------------------------------------------------------
    def _collect(self, usage: UsageLine) -> None:
        if usage.line > self.emitted_upto:
            self.emitted_upto = usage.line
            self.pending_lines.append(usage)
            if len(self.pending_lines) >= EMIT_ROWS:
                self._flush_lines()

    def _flush_lines(self) -> None:
        if self.pending_lines:
            self._add(self.pending_lines)
            self.pending_lines = []

    def _add(self, part: pa.Table | list[UsageLine]) -> None:
        self.pending.append(part)
        self.pending_rows += len(part)
        if self.pending_rows >= EMIT_ROWS:
            self._emit()

    def _emit(self) -> None:
        """Hand over what is pending, in line order: as tables, or as the reference's own
        UsageLine values (which may hold what no Arrow column can, e.g. plays beyond int64)."""
        if self.on_line is not None:
            for part in self.pending:
                for usage in (part if isinstance(part, list) else usage_lines(part)):
                    self.on_line(usage)
        elif self.on_table is not None and self.pending_rows:
            self.on_table(pa.concat_tables([lines_table(p) if isinstance(p, list) else p for p in self.pending]))
        self.pending, self.pending_rows = [], 0

    # --- driving -----------------------------------------------------------------------
    def run(self) -> Report:
        try:
            self._read()
            report = self._guarded(self.ref.finish)
        except _Restart:
            return self._restart()
        finally:
            if self.pool is not None:
                self.pool.shutdown()
        self._flush_lines()
        self._emit()
        return report

    @staticmethod
    def _guarded(step, *args):
        """Run a step of the reference parser. Should it fail other than by reporting problems
        (its own arithmetic on an odd cell), the file is read again by the reference alone: where
        it fails then depends on how its text stream decodes ahead, which only it can reproduce."""
        try:
            return step(*args)
        except InvalidInput:
            raise
        except Exception as exc:  # noqa: BLE001 - re-raised by the reference's own reading
            raise _Restart() from exc

    def _restart(self) -> Report:
        """Read the whole file again with the reference parser; lines already handed over are skipped."""
        self.restarted, self.fast_lines = True, 0
        self.ref = ReferenceParser(self.path, self.name, self._collect, footer_policy=self.footer_policy)
        report = parse_dsr_reference(self.path, parser=self.ref, progress=self.progress)
        self._flush_lines()
        self._emit()
        return report

    def _read(self) -> None:
        try:
            raw = open_binary(self.path)
        except (OSError, InvalidInput) as exc:   # the reference words it
            raise _Restart() from exc
        max_line = limits().max_line_bytes
        with raw:
            try:
                carry = raw.read(len(UTF8_BOM))
                if carry == UTF8_BOM:                 # a byte-order mark is not part of the first record
                    carry = b""
            except (OSError, EOFError, InvalidInput) as exc:
                raise _Restart() from exc
            while True:
                try:
                    chunk = raw.read(self.chunk_bytes)
                except (OSError, EOFError, InvalidInput) as exc:    # a corrupt gzip stream: the reference
                    raise _Restart() from exc                       # reports it where it reads it
                if not chunk:
                    break
                buf = carry + chunk if carry else chunk
                cut = buf.rfind(b"\n") + 1
                self._check_lines(buf, cut, max_line)
                carry = self._consume(buf[:cut], final=False) + buf[cut:] if cut else buf
        if carry:
            self._check_lines(carry, len(carry), max_line)
            if not carry.endswith(b"\n"):
                carry += b"\n"
            rest = self._consume(carry, final=True)
            assert not rest

    def _check_lines(self, buf: bytes, cut: int, max_line: int) -> None:
        """Refuse a line past the line limit, at its line number (complete lines before it read first)."""
        if len(buf) - cut > max_line:          # the open line at the end is already too long
            k = buf.count(b"\n", 0, cut)
        else:
            k = first_long_line(buf[:cut - 1] if cut else b"", max_line)
            if k is None:
                return
        start = 0
        for _ in range(k):
            start = buf.index(b"\n", start) + 1
        rest = self._consume(buf[:start], final=False) if start else b""
        raise line_too_long(self.name, self.ref.line_no + rest.count(b"\n") + 1, max_line)

    def _consume(self, buf: bytes, final: bool) -> bytes:
        """Take complete lines; return those that need the next chunk to be judged."""
        pos = 0
        while pos < len(buf):
            if self.mode == "ref":
                blanks = _BLANK_RUN.match(buf, pos)
                if blanks is not None:        # empty lines, any number of them, in one step
                    self._guarded(self.ref.feed_blank_run, blanks.group().count(b"\n"))
                    pos = blanks.end()
                    continue
                end = buf.index(b"\n", pos) + 1
                line = buf[pos:end]
                try:
                    text = line.decode("utf-8")
                except UnicodeDecodeError:    # the reference says where
                    self._guarded(self.ref.feed_bytes, line)
                    pos = end
                    continue
                if self.ref.line_no >= self.ref_until and self._can_hand_back(text):
                    self.mode = "fast"
                    continue
                self._guarded(self.ref.feed, text)
                pos = end
            else:
                done = self._fast(buf, pos, final)
                if done is None:            # one block, still open: wait for more text
                    self._split = None
                    return buf[pos:]
                pos = done
        self._split = None
        return b""

    def _can_hand_back(self, text: str) -> bool:
        """May the fast path take over at this line? It must start a new block, and the reference's
        open block must close without a problem (it is closed now, as the reference would)."""
        ref = self.ref
        if not ref.seen_head or ref.seen_foot:
            return False
        line = text.rstrip("\r\n")
        cells = line.split("\t")
        if cells[0] not in self._fast_types():
            return False
        names = ref.layout(cells[0])[0]
        if len(cells) - 1 > len(names):
            return False
        block_id = dict(zip(names, cells[1:])).get("BlockId", "")
        b = ref.block
        if b is not None:
            if b.block_id == block_id:
                return False
            if not b.usage_seen:
                for _, rec in b.ru_lines:
                    sid = rec.get("SummaryRecordId") or ""
                    if not (not sid and len(ref.summaries) == 1) and sid not in ref.summaries:
                        return False
                self._guarded(ref.emit_block, b)
                b.usage_seen, b.ru_lines = True, []
        return True

    def _fast_types(self) -> dict[str, int]:
        """Block record types the fast path reads with the current declarations → type code."""
        key = tuple(sorted((k, v) for k, v in self.ref.declared.items()))
        if key != self._types_key:
            types = {}
            for t in BLOCK_TYPES:
                names = self.ref.layout(t)[0]
                if len(set(names)) != len(names):
                    continue                       # a name declared twice: dict(zip()) semantics, leave it
                if t in UGC_USAGE_RECORD_TYPES and not {"DspReleaseId", "Usages"} <= set(names):
                    continue
                types[t] = len(types)
            self._types, self._types_key = types, key
        return self._types

    # --- the vectorised part -----------------------------------------------------------
    def _fast(self, buf: bytes, pos: int, final: bool) -> int | None:
        """Handle complete blocks from ``pos``; returns the new position, or None to wait for more."""
        ref = self.ref
        w, codes, start = self._window(buf, pos)
        type_names = list(self._fast_types())
        # Lines that are not block records go to the reference. Those that leave its state as it
        # is (comments, blank lines, unknown record types) stay in this pass: the block around
        # them is read by the reference. The first that changes it (HEAD, SY, FOOT, a column
        # declaration) ends the pass.
        s = w.n
        codes = codes[:s].copy()
        other = codes < 0
        for r in np.flatnonzero((other | w.odd) & ~w.blank):
            if w.odd[r] or not _inert(w.text(r)):
                s = int(r)
                break
        codes[other] = len(type_names)                  # rows from s on are not read in this pass
        base = ref.line_no + 1                          # line number of row 0
        if s == 0:
            self._to_reference(base)
            return pos
        rows = _Rows(self, w, codes[:s], type_names)
        starts = rows.block_starts()
        u = int(starts[-1])                             # the last block may go on after row s
        if u == 0:
            if s < w.n or final:
                self._to_reference(base + s)
                return pos
            return None
        block_bad = rows.prepare(u)
        if self.wants_usage and not ref.problems:
            # The cell checks and the usage columns are independent and both run mostly inside
            # Arrow and numpy kernels, which release the GIL: check on a worker thread meanwhile.
            checking = self._pool().submit(rows.cell_failures)
            out = rows.usage(block_bad, base)
            block_bad = block_bad | checking.result()
            out = out.filter(pa.array(~block_bad[rows.blk[out.column("line").to_numpy() - base]]))
        else:
            out = None
            block_bad = block_bad | rows.cell_failures()
        self._take(rows, starts, block_bad, base, u, out)
        return start + w.line_start(u)

    def _window(self, buf: bytes, pos: int) -> tuple[_Window, np.ndarray, int]:
        """The chunk split into cells from ``pos`` on, with each line's record type code (-1: a
        line for the reference). When the reference took over for a few lines and hands back in
        the same chunk, the split already made is reused: each byte is split once."""
        types = self._fast_types()
        cached = self._split
        if cached is not None and cached[0] is buf and cached[1] <= pos:
            _, start, whole, key, codes = cached
            r0 = whole.row_at(pos - start)
        else:
            r0 = None
        if r0 is None:
            start, whole, key, codes = pos, _Window(buf[pos:] if pos else buf, self.max_field), None, None
            r0 = 0
        if key != self._types_key:
            codes = pc.fill_null(pc.index_in(whole.take(whole.first_cell),
                                             value_set=pa.array(list(types), pa.string())), -1).to_numpy()
        self._split = (buf, start, whole, self._types_key, codes)
        return whole.view(r0), codes[r0:], start

    def _pool(self) -> ThreadPoolExecutor:
        if self.pool is None:
            self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dsr-check")
        return self.pool

    def _to_reference(self, last_line: int) -> None:
        self.mode, self.ref_until = "ref", last_line

    def _take(self, rows: "_Rows", starts: np.ndarray, block_bad: np.ndarray, base: int, u: int,
              out: pa.Table | None) -> None:
        """Blocks [0, u): clean ones from the vectorised result, flagged ones through the reference."""
        ref = self.ref
        n_blocks = int(np.searchsorted(starts, u))
        block_end = np.append(starts[1:n_blocks], u)
        row = 0
        for b in np.flatnonzero(block_bad[:n_blocks]):
            if starts[b] < row:
                continue
            self._fast_span(rows, out, row, int(starts[b]), starts, base)
            row = int(starts[b])
            while True:                 # the reference reads blocks until one closes cleanly
                nxt = int(block_end[np.searchsorted(starts, row, side="right") - 1])
                self._feed_rows(rows.w, row, nxt)
                row = nxt
                if row >= u or self._can_hand_back(rows.w.text(row)):
                    break
            if row >= u and not self._can_hand_back(rows.w.text(u)):
                self._to_reference(base + u)
        self._fast_span(rows, out, row, u, starts, base)
        if self.progress is not None:
            self.progress(ref.line_no)

    def _feed_rows(self, w: _Window, r0: int, r1: int) -> None:
        """Rows [r0, r1) of the window to the reference, runs of empty lines in one step each."""
        ref, prev = self.ref, r0
        for r in np.flatnonzero(~w.blank[r0:r1]) + r0:
            if r > prev:
                self._guarded(ref.feed_blank_run, int(r - prev))
            self._guarded(ref.feed, w.text(int(r)))
            prev = int(r) + 1
        if r1 > prev:
            self._guarded(ref.feed_blank_run, r1 - prev)

    def _fast_span(self, rows: "_Rows", out: pa.Table | None, r0: int, r1: int, starts: np.ndarray,
                   base: int) -> None:
        """Account for clean blocks [r0, r1) in the reference's state and hand over their usage."""
        if r1 <= r0:
            return
        ref = self.ref
        lo, hi = base + r0, base + r1 - 1
        n_usage = rows.usage_count(r0, r1)
        if out is not None and not ref.problems and n_usage:
            line = out.column("line").to_numpy()
            a, b = np.searchsorted(line, lo), np.searchsorted(line, hi, side="right")
            self._flush_lines()
            self._add(out.slice(a, b - a))
            self.emitted_upto = hi
        self.fast_lines += r1 - r0
        ref.report.usage_lines += n_usage
        ref.report.blocks += int(np.searchsorted(starts, r1) - np.searchsorted(starts, r0))
        ref.line_no = hi
        ref.blank_run = None
        closed = Block(rows.block_id(r1 - 1))
        closed.usage_seen = True
        ref.block = closed


class _Rows:
    """The block records of a window (rows [0, s)): cells fetched by name, per record type."""

    def __init__(self, reader: _Reader, w: _Window, codes: np.ndarray, type_names: list[str]):
        self.reader, self.w, self.codes = reader, w, codes
        self.n = len(codes)
        self.first_cell = w.first_cell[:self.n]
        self.n_values = w.n_values[:self.n]
        self.layouts = [reader.ref.layout(t) for t in type_names]
        self.kind = np.array([_kind(t) for t in type_names] + [_OTHER], np.int8)[codes]
        self.positions: dict[str, np.ndarray] = {}
        for code, (names, _, _) in enumerate(self.layouts):
            for i, name in enumerate(names):
                self.positions.setdefault(name, np.full(len(type_names) + 1, -1, np.int64))[code] = i
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(type_names) + 1))
        self.rows_of_type = [order[bounds[t]:bounds[t + 1]] for t in range(len(type_names))]

    def cells(self, name: str, rows: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
        """Cell ``name`` of ``rows``: null where the record has no such cell or the line stops
        before it (the reference's ``rec.get(name)``) or ``valid`` is False, else its text."""
        n = len(rows)
        if name not in self.positions or n == 0:
            return pa.nulls(n, pa.string())
        pos = self.positions[name][self.codes[rows]]
        present = (pos >= 0) & (pos < self.n_values[rows])
        if valid is not None:
            present &= valid
        if not present.any():
            return pa.nulls(n, pa.string())
        return self.w.take(self.first_cell[rows] + 1 + np.where(present, pos, 0), ~present)

    def block_id(self, row: int) -> str:
        return self.cells("BlockId", np.array([row]))[0].as_py() or ""

    def block_starts(self) -> np.ndarray:
        """Rows that open a block, as the reference counts them: where the BlockId changes. A line
        with more cells than declared, like a comment or a blank line, is passed over by the
        reference before it looks at the block, so it neither opens nor interrupts one (it belongs
        to the block around it, which it sends to the reference)."""
        n_names = np.array([len(layout[0]) for layout in self.layouts] + [0])[self.codes]
        self.too_long = (self.n_values > n_names) | (self.codes == len(self.layouts))   # or not a record
        kept = np.flatnonzero(~self.too_long)           # row 0 is never skipped (see _can_hand_back)
        ids = pc.fill_null(self.cells("BlockId", kept), "")
        change = np.zeros(self.n, bool)
        change[0] = True
        change[kept[:1]] = True
        if len(kept) > 1:
            change[kept[1:]] = _np_bool(pc.not_equal(ids.slice(1), ids.slice(0, len(kept) - 1)))
        self.blk = np.cumsum(change) - 1
        self.starts = np.flatnonzero(change)
        return self.starts

    # --- checks ------------------------------------------------------------------------
    def prepare(self, u: int) -> np.ndarray:
        """The usage rows of blocks [0, u) with their summary and plays, and the blocks the
        reference must read because of them: too many cells, DspReleaseIds and Usages that do
        not pair up, a usage that refers to no summary, plays that cannot be converted exactly."""
        bad = self.too_long.copy()
        ru_rows = np.flatnonzero(self.kind == _RU)
        if len(ru_rows):
            ids_, uses = self.cells("DspReleaseId", ru_rows), self.cells("Usages", ru_rows)
            bad[ru_rows] |= ~_np_bool(pc.equal(pc.count_substring(ids_, "|"), pc.count_substring(uses, "|")))
        n_blocks = len(self.starts)
        block_bad = np.bincount(self.blk[bad], minlength=n_blocks) > 0
        self.block_has_su = np.bincount(self.blk[self.kind == _SU], minlength=n_blocks) > 0
        emit = (self.kind == _SU) | ((self.kind == _RU) & ~self.block_has_su[self.blk])
        emit[u:] = False
        self.emit = emit
        self.summary_index = np.full(self.n, -1, np.int64)
        self.plays = np.zeros(self.n, np.int64)
        q = np.flatnonzero(emit)
        if len(q):
            self.summary_index[q] = self._summaries(q)
            self.plays[q] = self._plays(q)
        unusable = emit & ((self.summary_index < 0) | (self.plays == _NO_PLAYS))
        block_bad |= np.bincount(self.blk[unusable], minlength=n_blocks) > 0
        return block_bad

    def cell_failures(self) -> np.ndarray:
        """Blocks with a cell that fails its check or a mandatory cell that is empty or missing."""
        bad = np.zeros(self.n, bool)
        lengths = self.w.lengths
        for t, rows in enumerate(self.rows_of_type):
            if not len(rows):
                continue
            names, required, _ = self.layouts[t]
            n_values, first = self.n_values[rows], self.first_cell[rows] + 1
            for k, name in enumerate(names):
                check = cell_checker(name)
                if check is None and not required[k]:
                    continue
                present = k < n_values
                idx = first + k
                filled = present & (lengths[np.where(present, idx, 0)] > 0)
                if required[k]:
                    bad[rows[~filled]] = True
                if check is not None and filled.any():
                    fails = self._check(name, self.w.take(idx[filled], strip=False))
                    bad[rows[filled][fails]] = True
        return np.bincount(self.blk[bad], minlength=len(self.starts)) > 0

    def _check(self, name: str, values: pa.Array) -> np.ndarray:
        """Which (non-empty) values fail the check of cell ``name`` (values with their delimiter)."""
        regex = _simple_regex(name)
        if regex is not None:
            return ~_np_bool(pc.match_substring_regex(values, regex))
        doubt = np.ones(len(values), bool)
        canonical = {"ISRC": _ISRC_CANONICAL, "ISWC": _ISWC_CANONICAL}.get(name)
        if canonical is not None:
            plain = _np_bool(pc.match_substring_regex(values, canonical))
            if name == "ISRC":
                plain &= _np_bool(pc.is_in(pc.utf8_slice_codeunits(values, 0, 2), value_set=_isrc_prefixes()))
            else:
                plain &= _iswc_check_digit_ok(values, plain)
            doubt &= ~plain
            if not doubt.any():
                return doubt
            values = values.filter(pa.array(doubt))
        fails = self._check_distinct(name, values)
        doubt[doubt] = fails
        return doubt

    def _check_distinct(self, name: str, values: pa.Array) -> np.ndarray:
        """The reference's own check on each distinct value (they repeat: territories, durations)."""
        good = self.reader.good.setdefault(name, set())
        check = cell_checker(name)
        rejected = []
        for v in pc.unique(values).to_pylist():
            if v in good:
                continue
            if check(v[:-1]) is not None:
                rejected.append(v)
            elif len(good) < 1_000_000:
                good.add(v)
        if not rejected:
            return np.zeros(len(values), bool)
        return _np_bool(pc.is_in(values, value_set=pa.array(rejected, pa.string())))

    def _summaries(self, q: np.ndarray) -> np.ndarray:
        """Index of each usage row's summary (the reference's lookup), -1 when none."""
        summaries = self.reader.ref.summaries
        sid = pc.fill_null(self.cells("SummaryRecordId", q), "")
        if len(summaries) == 1:
            sid = pc.if_else(pc.equal(sid, ""), next(iter(summaries)), sid)
        keys = pa.array(list(summaries), pa.string())
        return pc.fill_null(pc.index_in(sid, value_set=keys), -1).to_numpy()

    def _plays(self, q: np.ndarray) -> np.ndarray:
        """Plays of each usage row as the reference computes them; _NO_PLAYS where the text is not
        a plain integer that int64 holds (the reference then does the arithmetic)."""
        plays = np.zeros(len(q), np.int64)
        su = self.kind[q] == _SU
        if su.any():
            rows = q[su]
            streams = self.cells("NumberOfStreams", rows)
            text = pc.fill_null(pc.if_else(pc.is_valid(streams), streams, self.cells("Usages", rows)), "")
            filled = _np_bool(pc.greater(pc.binary_length(text), 0))
            ok = _np_bool(pc.match_substring_regex(text, _PLAYS))
            out = np.zeros(len(rows), np.int64)
            out[filled & ~ok] = _NO_PLAYS
            take = filled & ok
            if take.any():
                out[take] = pc.cast(text.filter(pa.array(take)), pa.int64()).to_numpy()
            plays[su] = out
        ru = ~su
        if ru.any():
            rows = q[ru]
            parts = pc.split_pattern(pc.fill_null(self.cells("Usages", rows), ""), "|")
            flat = pc.list_flatten(parts)
            parent = pc.list_parent_indices(parts).to_numpy()
            keep = _np_bool(pc.not_equal(flat, ""))
            ok = _np_bool(pc.match_substring_regex(flat, _RU_PART))
            counts = np.bincount(parent, minlength=len(rows))
            bad = (np.bincount(parent[keep & ~ok], minlength=len(rows)) > 0) | (counts > 1000)
            values = np.zeros(len(flat), np.int64)
            sel = keep & ok
            if sel.any():
                values[sel] = pc.cast(flat.filter(pa.array(sel)), pa.int64()).to_numpy()
            sums = np.zeros(len(rows), np.int64)
            np.add.at(sums, parent, values)
            plays[ru] = np.where(bad, _NO_PLAYS, sums)
        return plays

    def usage_count(self, r0: int, r1: int) -> int:
        return int(self.emit[r0:r1].sum())

    # --- the usage lines ---------------------------------------------------------------
    def usage(self, block_bad: np.ndarray, base: int) -> pa.Table:
        """Usage rows of the blocks not (yet) flagged, in line order. Their cells may still fail a
        check (that runs meanwhile): nothing here may raise on a bad value."""
        ref = self.reader.ref
        q = np.flatnonzero(self.emit & ~block_bad[self.blk])
        n = len(q)
        qb = self.blk[q]
        block_end = np.append(self.starts[1:], self.n)
        # SU records see the block as it stands at their line; RU lines are emitted when it closes.
        at = np.where(self.kind[q] == _SU, q, block_end[qb])
        first = self.starts[qb]

        def before(kind: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            rows_k = np.flatnonzero(self.kind == kind)
            lo = np.searchsorted(rows_k, first)
            return rows_k, lo, np.searchsorted(rows_k, at) - lo   # rows, first in block, count so far

        as_rows, as_lo, as_n = before(_AS)
        asset = np.where(as_n > 0, as_lo, -1)
        multi = np.flatnonzero(as_n > 1)
        if len(multi):
            asset[multi] = self._match_assets(q[multi], at[multi], as_rows, as_lo[multi], qb[multi])
        mw_rows, mw_lo, mw_n = before(_MW)
        work = np.where(mw_n == 1, mw_lo, -1)
        re_rows = np.flatnonzero(self.kind == _RE)     # the block's last release so far
        release = np.full(n, -1)
        if len(re_rows):
            last = np.searchsorted(re_rows, at) - 1
            release = np.where((last >= 0) & (re_rows[np.maximum(last, 0)] >= first), last, -1)

        def pick(rows_k: np.ndarray, index: np.ndarray, *names: str) -> list[pa.Array]:
            """Cells of the chosen resource/work/release of each usage row: fetched once per
            record, then spread to the usage rows (a small, cache-friendly take)."""
            valid = index >= 0
            used = _distinct(index[valid])
            spread = pa.array(np.searchsorted(used, np.where(valid, index, 0)), mask=~valid)
            return [_nonempty(self.cells(name, rows_k[used]).take(spread)) for name in names]

        a_isrc, a_title, a_artist, a_duration, a_iswc, a_prop = pick(
            as_rows, asset, "ISRC", "Title", "DisplayArtistName", "Duration", "ISWC", "ProprietaryWorkId")
        w_iswc, w_prop, w_title = pick(mw_rows, work, "ISWC", "ProprietaryWorkId", "Title")
        album, = pick(re_rows, release, "Title")
        proprietary = pc.replace_substring_regex(pc.coalesce(w_prop, a_prop), r"\|.*", "")

        dims = [summary_dimensions(ref.report, rows[0]) for rows in ref.summaries.values()]
        s_idx = pa.array(self.summary_index[q])

        def dim(i: int) -> pa.Array:
            return pa.array([d[i] for d in dims], pa.string()).take(s_idx) if dims else pa.nulls(n, pa.string())

        return pa.table({
            "line": pa.array(q + base, pa.int64()),
            "period": pa.array([ref.report.period] * n, pa.string()),
            "territory": dim(0), "service": dim(1), "commercial_model": dim(2), "use_type": dim(3),
            "plays": pa.array(self.plays[q], pa.int64()),
            "isrc": a_isrc, "iswc": pc.coalesce(w_iswc, a_iswc), "proprietary_id": proprietary,
            "title": pc.coalesce(a_title, w_title), "artist": a_artist, "album": album,
            "duration_s": _durations(a_duration),
            "revenue": _nonempty(self.cells("NetRevenue", q)),
            "currency": dim(4), "user_id": pa.nulls(n, pa.string()),
        }, schema=USAGE_LINES_SCHEMA)

    def _match_assets(self, q: np.ndarray, at: np.ndarray, as_rows: np.ndarray, lo: np.ndarray,
                      qb: np.ndarray) -> np.ndarray:
        """The reference's ``_asset_for`` for blocks with several resources: the first resource
        (before the usage line) whose ResourceReference is the usage's TransactedResource or whose
        DspResourceId is its DspReleaseId/DspResourceId, else the block's first resource."""
        as_blk = self.blk[as_rows]
        mine = np.flatnonzero(np.isin(as_blk, qb))           # resources of the blocks concerned
        ref = _nonempty(self.cells("TransactedResource", q))
        dsp = pc.coalesce(_nonempty(self.cells("DspReleaseId", q)), _nonempty(self.cells("DspResourceId", q)))
        best = np.full(len(q), np.iinfo(np.int64).max)
        for asset_cell, query in (("ResourceReference", ref), ("DspResourceId", dsp)):
            own = _nonempty(self.cells(asset_cell, as_rows[mine]))
            # (block, text) as one integer: block * (number of distinct texts + 1) + text code
            texts = pc.unique(pa.concat_arrays([own, query]).drop_null())
            width = len(texts) + 1
            own_code = pc.fill_null(pc.index_in(own, value_set=texts), -1).to_numpy()
            q_code = pc.fill_null(pc.index_in(query, value_set=texts), -1).to_numpy()
            keyed = np.flatnonzero(own_code >= 0)
            own_key = as_blk[mine[keyed]] * width + own_code[keyed]
            keys, first = np.unique(own_key, return_index=True)   # first resource with each key
            q_key = qb * width + q_code
            at_key = np.minimum(np.searchsorted(keys, q_key), max(len(keys) - 1, 0))
            found = (q_code >= 0) & (len(keys) > 0)
            if len(keys):
                found &= keys[at_key] == q_key
            hit = np.where(found, mine[keyed[first[at_key]]] if len(keys) else 0, -1)
            found &= as_rows[np.maximum(hit, 0)] < at
            best = np.where(found, np.minimum(best, hit), best)
        return np.where(best == np.iinfo(np.int64).max, lo, best)


_NO_PLAYS = np.iinfo(np.int64).min
_BLANK_RUN = re.compile(rb"(?:\r?\n)+")
_CONTROL_TABLE = np.zeros(256, bool)
_CONTROL_TABLE[sorted(CONTROL_CHARACTERS)] = True
_OTHER, _RE, _AS, _MW, _RU, _SU = range(6)


def _inert(text: str) -> bool:
    """Does the reference only count (and maybe report) this line, changing nothing else?"""
    line = text.rstrip("\r\n")
    if line.startswith("#"):
        cells = line[1:].split("\t")
        return not (cells[0] in RECORDS and len(cells) > 1)           # not a column declaration
    return not line.strip() or line.split("\t", 1)[0] not in RECORDS   # blank, or unknown type


def _kind(rtype: str) -> int:
    """What a block record contributes, as the reference dispatches it (by prefix or type)."""
    return (_RE if rtype.startswith("RE") else _AS if rtype.startswith("AS") else
            _MW if rtype.startswith("MW") else _RU if rtype in UGC_USAGE_RECORD_TYPES else
            _SU if rtype in USAGE_RECORD_TYPES else _OTHER)


def _distinct(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values; without sorting when they already come in order (the usual case)."""
    if len(values) and np.all(values[1:] >= values[:-1]):
        keep = np.ones(len(values), bool)
        keep[1:] = values[1:] != values[:-1]
        return values[keep]
    return np.unique(values)


def _iswc_check_digit_ok(values: pa.Array, plain: np.ndarray) -> np.ndarray:
    """For values of the form T + 10 digits (+ delimiter): does the last digit match the check digit?"""
    ok = np.zeros(len(values), bool)
    rows = np.flatnonzero(plain)
    if not len(rows):
        return ok
    subset = values.take(pa.array(rows))            # fresh buffers: 11 bytes each, back to back
    offsets = np.frombuffer(subset.buffers()[1], np.int32)[subset.offset:subset.offset + len(rows) + 1]
    data = np.frombuffer(subset.buffers()[2], np.uint8)[offsets[0]:offsets[-1]]
    digits = data.reshape(-1, 12)[:, 1:11].astype(np.int64) - 48     # T, 10 digits, delimiter
    total = 1 + (digits[:, :9] * np.arange(1, 10)).sum(axis=1)
    ok[rows] = digits[:, 9] == (10 - total % 10) % 10
    return ok


_PREFIXES: pa.Array | None = None


def _isrc_prefixes() -> pa.Array:
    global _PREFIXES
    if _PREFIXES is None:
        from obra import ids

        _PREFIXES = pa.array(sorted(ids.iso_countries() | ids._ISRC_SPECIAL_PREFIXES), pa.string())
    return _PREFIXES


def _durations(text: pa.Array) -> pa.Array:
    """``duration_seconds`` of each distinct duration (durations repeat), as int32 (0 → null)."""
    distinct = pc.unique(text.drop_null())
    seconds = pa.array([_duration_or_none(v) for v in distinct.to_pylist()], pa.int32())
    return seconds.take(pc.index_in(text, value_set=distinct))


def _duration_or_none(text: str) -> int | None:
    try:
        return duration_seconds(text)
    except ValueError:          # a bad cell: its block goes to the reference parser
        return None


# --- public ------------------------------------------------------------------------------

def parse_dsr(path: str | Path, *, display_name: str | None = None,
              on_line: Callable[[UsageLine], None] | None = None,
              progress: Callable[[int], None] | None = None, footer_policy: str = "refuse") -> Report:
    """Validate a DSR file in one streaming pass, handing each usage line to ``on_line``.

    Raises :class:`InvalidInput` listing every problem (file, line, field) if anything is
    wrong; the caller must then discard whatever ``on_line`` received (the store writes to
    a temporary directory for exactly this reason). ``progress`` is called with the number
    of lines read so far.

    The file is read by the vectorised reader (:func:`read_dsr_tables`), which hands every
    stretch it cannot vouch for to :class:`ReferenceParser`; the result, the usage lines and
    the problems are those :func:`parse_dsr_reference` gives. ``footer_policy``: ``"refuse"`` (the
    default) or ``"accept-with-warning"`` (FOOT counts that disagree with the file become
    ``Report.footer_warnings``; see :mod:`obra.royalties.formats.dsr_reference`).
    """
    return read_dsr_tables(path, display_name=display_name, on_line=on_line, progress=progress,
                           footer_policy=footer_policy)


def read_dsr_tables(path: str | Path, *, display_name: str | None = None,
                    on_table: Callable[[pa.Table], None] | None = None,
                    on_line: Callable[[UsageLine], None] | None = None,
                    progress: Callable[[int], None] | None = None,
                    chunk_bytes: int = CHUNK_BYTES, stats: dict | None = None,
                    footer_policy: str = "refuse") -> Report:
    """Validate a DSR file in one streaming pass, handing its usage lines to ``on_table`` as Arrow
    tables (schema :data:`obra.royalties.records.USAGE_LINES_SCHEMA`, line order, up to a few
    hundred thousand rows each), or to ``on_line`` as :class:`UsageLine` values (what
    :func:`parse_dsr` does).

    Same contract as :func:`parse_dsr`: raises :class:`InvalidInput` with every
    problem (the caller discards what it received), else returns the :class:`Report`. ``stats``,
    if given, receives how many lines each path read (``fast_lines``, ``reference_lines``) and
    whether the file had to be read again from the start (``restarted``). ``footer_policy`` as for
    :func:`parse_dsr`.
    """
    path = Path(path)
    reader = _Reader(path, display_name or path.name, on_table, on_line, progress, chunk_bytes, footer_policy)
    try:
        return reader.run()
    finally:
        if stats is not None:
            stats.update(fast_lines=reader.fast_lines, reference_lines=reader.ref.line_no - reader.fast_lines,
                         restarted=reader.restarted)


def lines_table(lines: list[UsageLine]) -> pa.Table:
    """Usage lines (from the reference parser) as a :data:`USAGE_LINES_SCHEMA` table."""
    columns = {name: [getattr(u, name) for u in lines] for name in USAGE_LINES_SCHEMA.names}
    columns["revenue"] = [None if r is None else str(r) for r in columns["revenue"]]
    return pa.table(columns, schema=USAGE_LINES_SCHEMA)


def usage_lines(table: pa.Table) -> list[UsageLine]:
    """A :data:`USAGE_LINES_SCHEMA` table as :class:`UsageLine` values (revenue parsed as the reference does)."""
    out = []
    for row in table.to_pylist():
        if row["revenue"] is not None:
            row["revenue"] = Decimal(row["revenue"])
        out.append(UsageLine(**row))
    return out


def to_usage_contract(table: pa.Table, source: str, schema: pa.Schema) -> pa.Table:
    """A :data:`USAGE_LINES_SCHEMA` table in the usage dataset's schema (``source`` added, revenue exact).

    Revenue text that casts to the contract's decimal without rounding is cast; anything else
    is quantized with :class:`Decimal` exactly as row-by-row ingest does.
    """
    revenue_type = schema.field("revenue").type
    text = table.column("revenue")
    if pc.all(pc.fill_null(pc.match_substring_regex(text, _REVENUE_EXACT), True)).as_py():
        revenue = pc.cast(text, revenue_type)
    else:
        quantum = Decimal(1).scaleb(-revenue_type.scale)
        revenue = pa.array([None if v is None else Decimal(v).quantize(quantum) for v in text.to_pylist()],
                           revenue_type)
    columns = {name: table.column(name) for name in USAGE_LINES_SCHEMA.names if name != "revenue"}
    columns.update(source=pa.array([source] * table.num_rows, pa.string()), revenue=revenue)
    return pa.table({name: columns[name] for name in schema.names}, schema=schema)
