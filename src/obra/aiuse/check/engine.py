"""The check's relational steps, written once as Ibis expressions, run on DuckDB (default) or Spark.

The steps (:meth:`CheckEngine.run`), none of them a Python loop over items:

1. **Site classes.** Every item path is joined (SQL ``LIKE``) with the path patterns of its
   site's documents; the sorted list of patterns it matches is its *signature*. Each distinct
   (origin, signature) is one class, read once at a representative path
   (:meth:`obra.aiuse.check.signals.Reader.site_class`). A site whose robots.txt holds a pattern
   protego may read otherwise than RFC 9309 gives each path its own class.
2. **Header classes**: each distinct set of signal-bearing header fields, read once.
3. **Pairs**: where a standard combines two sources (AIPREF header + robots.txt, TDMRep file +
   headers, RSL robots.txt + Link documents), each distinct pair is combined once; CAWG per
   distinct captured manifest store.
4. **Registry**: exact joins on SHA-256 and Instance-Code, the exact near-duplicate join on
   Content-Codes of the same kind (:func:`obra.identify.similar.near_duplicates` on DuckDB; the same
   multi-index hashing as Spark equi-joins on Spark), the registered-location join, then each
   matched registration's terms (own, else its parties' catalogue terms), each distinct terms
   document evaluated once; the most restrictive permission across an item's matches.
5. **Decision**: each distinct combination of the values above decided once
   (:func:`obra.aiuse.check.decide.decide`), joined back.

Python only ever sees distinct values (classes, pairs, decision keys), collected from the
engine; every per-item table stays in the engine, so the same code scales from DuckDB on one
machine to a Spark cluster.
"""

from __future__ import annotations

import copy
import itertools
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import ibis
import ibis.expr.datatypes as dt
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from obra.aiuse.check.decide import decide, key_of
from obra.aiuse.check.manifest import Manifest
from obra.aiuse.check.registry import RegistryIndex, evaluate_terms
from obra.aiuse.check.signals import ABSENT, Part, Reader, dumps
from obra.aiuse.check.sites import Sites, like_pattern, normalise_origin
from obra.aiuse.vocabulary import Use
from obra.errors import InvalidInput, Problem
from obra.identify.similar import bulk_blocks, flips, near_duplicate_arrays
from obra.law.tdm import TdmRule
from obra.royalties import engine as backends

__all__ = ["ENGINES", "RESULT_FORMATS", "RESULT_FILES", "Question", "CheckEngine", "CheckRun"]

ENGINES = ("duckdb", "spark")
RESULT_FORMATS = ("parquet", "csv", "json")
"""The per-item result formats a check can write."""
RESULT_FILES = {"parquet": "items.parquet", "csv": "items.csv", "json": "items.json", "parts": "parts.json",
                "summary": "summary.json", "problems": "problems.json"}
"""A check's result files, by the names its receipt records their hashes under."""
STANDARD_COLUMNS = ("crawl", "aipref", "content_signals", "tdmrep", "rsl", "noai", "cawg")
"""Per-item values of each standard: in the Parquet output; in CSV/JSON through the decision key."""
_RANK_NAME = {0: "not-allowed", 1: "licence", 2: "allowed", 3: "none"}
_MATCHES = ("array<struct<distance: int64, number: string, how: string, permission: string, from: string, "
            "terms_event: int64, terms_version: int64>>")
PROCESS_QUERIES = 100_000
"""From this many Content-Codes of one kind, the service searches them in a worker process."""


@dataclass(frozen=True)
class Question:
    """What is asked: the use, where, for what purpose, by whom."""

    use: Use
    jurisdiction: str
    purpose: str
    commercial: bool
    user_agent: str
    rule: TdmRule
    on: date
    radius: int = 8

    @property
    def rsl_user(self) -> str:
        return "commercial" if self.commercial else "non-commercial"

    def to_json(self) -> dict:
        return {"use": self.use.value, "jurisdiction": self.jurisdiction, "purpose": self.purpose,
                "commercial": self.commercial, "user_agent": self.user_agent, "on": self.on.isoformat(),
                "radius": self.radius}


@dataclass
class CheckRun:
    """A finished run: the per-item table (in the engine), the class parts, the summary."""

    items: Any
    parts: dict[str, dict[int, dict]]
    decisions: dict[int, dict]
    summary: dict
    engine: "CheckEngine"
    timings: dict = field(default_factory=dict)


def _in_force(at, terms):
    """The terms row was in force at the instant ``at`` (valid from ``t_from`` until ``t_until``)."""
    return (terms.t_from.isnull() | (terms.t_from < at)) & (terms.t_until.isnull() | (terms.t_until >= at))


def _esc(col):
    """Paths escaped for ``LIKE`` (see :func:`obra.aiuse.check.sites.like_escape`)."""
    return col.replace("\\", "\x03").replace("%", "\x01").replace("_", "\x02")


class CheckEngine:
    """One backend (DuckDB in-process, or Spark) and the check's steps on it."""

    def __init__(self, name: str = "duckdb", *, session: Any = None, threads: int | None = None,
                 memory_limit: str | None = None):
        if name not in ENGINES:
            raise InvalidInput(Problem(f"unknown engine {name!r}; use one of: {', '.join(ENGINES)}", field="engine"))
        self.name = name
        self.threads = threads
        # DuckDB spills past its limit (OBRA_DUCKDB_MEMORY_LIMIT, else 2GB here): the check's own Arrow
        # columns and the near-duplicate tables live beside it.
        limit = memory_limit or os.environ.get("OBRA_DUCKDB_MEMORY_LIMIT") or "2GB"
        self.con = backends.connect(name, session=session, memory_limit=limit if name == "duckdb" else None)
        if name == "duckdb" and threads:
            self.con.raw_sql(f"SET threads = {int(threads)}")
        self._names = itertools.count(1)   # table names, unique across this engine's threads
        self._ordered: str | None = None   # the table stored in item order (the result)

    # --- plumbing ------------------------------------------------------------------------------

    def put(self, data: pa.Table, name: str | None = None):
        """An Arrow table into the backend (DuckDB: a native table, whose scans run on every core)."""
        name = name or f"obra_check_{next(self._names)}"
        if self.name == "duckdb":   # not TEMP: the side connection (:meth:`side`) reads it too
            return self.con.create_table(name, data)   # names are unique: no drop-and-rename
        return backends.table(self.con, data, name, copy=True)

    def side(self) -> "CheckEngine":
        """The same engine on a second connection to the same in-memory database, for a step run
        in another thread (a DuckDB connection runs one statement at a time and refuses a second)."""
        if self.name != "duckdb":
            return self
        other = copy.copy(self)
        other.con = ibis.duckdb.from_connection(self.con.con.cursor())
        return other

    def table(self, name: str):
        return self.con.table(name)

    def arrow(self, expr) -> pa.Table:
        return self.con.to_pyarrow(expr)

    # --- 1-3: signal classes -------------------------------------------------------------------

    def _patterns(self, manifest: Manifest, sites: Sites, reader: Reader,
                  agent: str) -> tuple[pa.Table, set[str], dict[str, int]]:
        origins = [o for o in pc.unique(manifest.items["origin"].drop_null()).to_pylist()]
        extra_any: dict[str, None] = {}
        extra_by: dict[str, dict[str, None]] = {}
        seen: set[str] = set()
        for bundle in manifest.bundles.values():   # RSL documents named by Link headers: their scopes too
            for value in bundle.get("link") or ():
                if value in seen:
                    continue
                seen.add(value)
                for link in reader.licence_links((value,)):
                    document = sites.document(link.url)
                    for content in (document.contents if document is not None else ()):
                        if not content.url:
                            continue
                        if "://" in content.url:
                            parts = urlsplit(content.url)
                            origin = normalise_origin(f"{parts.scheme}://{parts.netloc}")
                            if origin:
                                extra_by.setdefault(origin, {})[parts.path or "/"] = None
                        else:
                            extra_any[content.url] = None
        rows_o, rows_p, rows_l = [], [], []
        exact: set[str] = set()
        # Per origin, the bits of its robots.txt patterns in a signature (they come first: see
        # Site.patterns), so paths of sites serving the same robots.txt share its reading.
        robots_bits: dict[str, int] = {}
        for origin in origins:
            site = sites.get(origin)
            found, ambiguous = site.patterns(agent) if site is not None else ([], False)
            found = list(dict.fromkeys(found + list(extra_any) + list(extra_by.get(origin, ()))))
            if ambiguous or len(found) > 62:   # per-path classes: exact, only finer
                exact.add(origin)
                continue
            if site is not None and site.robots is not None:
                robots_bits[origin] = (1 << len(site.robots_patterns(agent)[0])) - 1
            for pid, pattern in enumerate(found):
                like, _length = like_pattern(pattern)
                rows_o.append(origin)
                rows_p.append(pid)
                rows_l.append(like)
        return pa.table({"p_origin": pa.array(rows_o, pa.string()), "pid": pa.array(rows_p, pa.int64()),
                         "like": pa.array(rows_l, pa.string())}), exact, robots_bits

    def _site_classes(self, items, manifest: Manifest, sites: Sites, reader: Reader, agent: str,
                      meanwhile: Any = None):
        """The site classes, read; ``meanwhile`` (Python work that does not touch the engine) runs while
        the engine computes the items' signatures, the GIL released (DuckDB), else after."""
        patterns, exact, robots_bits = self._patterns(manifest, sites, reader, agent)
        pat = self.put(patterns)
        it = items.filter(items.url.notnull()).select("item", "origin", lpath=_esc(items.path))
        hits = it.join(pat, it.origin == pat.p_origin).filter(lambda t: t.lpath.like(t.like))
        # The signature: the set of matching patterns as the bits of one integer (<= 62 patterns per
        # origin; each (item, pattern) joins once, so the sum of the bits is their OR).
        sig = hits.group_by("item").aggregate(bits=(ibis.literal(1, "int64") << hits.pid).sum())
        sig = sig.rename(s_item="item")
        base = items.left_join(sig, items.item == sig.s_item).drop("s_item")
        okey = base.origin.fill_null("")
        signature = base.bits.fill_null(0).cast("string")
        if exact:
            signature = base.origin.isin(sorted(exact)).ifelse(base.path.fill_null(""), signature)
        base = base.mutate(okey=okey, sig=signature).drop("bits")

        def signatures():
            table = self._materialise(base)
            return table, self.arrow(table.group_by(["okey", "sig"]).aggregate(rep=table.path.min()))

        if meanwhile is not None and self.name == "duckdb":
            with ThreadPoolExecutor(1, thread_name_prefix="obra-check-sig") as pool:
                computed = pool.submit(signatures)
                try:
                    meanwhile()
                finally:
                    base, classes = computed.result()
        else:
            base, classes = signatures()
            if meanwhile is not None:
                meanwhile()
        rows = {"okey": [], "sig": [], "sc": [], "crawl": [], "content_signals": [], "ar": [], "tf": [], "rsl_docs": []}
        parts: dict[str, dict[int, dict]] = {"site": {}, "aipref_robots": {}, "tdm_file": {}}
        self._sc: dict[int, dict] = {}
        interned_ar: dict[tuple, int] = {((), None): 0}
        interned_tf: dict[tuple, int] = {(None, None): 0}
        self._ar_values: dict[int, tuple] = {0: ((), None)}
        self._tf_values: dict[int, tuple] = {0: (None, None)}
        okeys, sigs, reps = classes["okey"].to_pylist(), classes["sig"].to_pylist(), classes["rep"].to_pylist()
        as_json: dict[int, tuple] = {}   # id of a Part -> (the Part, kept alive so its id is never reused; its JSON)
        # One site at a time, and in the same order in every run (the engine groups in any order), so the
        # classes' numbers, and with them the result files and their hashes in the receipt, are reproducible.
        order = sorted(range(classes.num_rows), key=lambda i: (okeys[i], sigs[i]))
        for sc, i in enumerate(order, start=1):
            origin = okeys[i] or None
            rep = reps[i] or "/"
            mask = robots_bits.get(origin) if origin else None
            part = reader.site_class(origin, rep, None if mask is None else int(sigs[i]) & mask)
            ar_key = (part["aipref_robots"], part["date"] if part["aipref_robots"] else None)
            ar = interned_ar.setdefault(ar_key, len(interned_ar))
            self._ar_values[ar] = ar_key
            tf_key = (part["tdm_file"], part["date"])
            tf = interned_tf.setdefault(tf_key, len(interned_tf))
            self._tf_values[tf] = tf_key
            self._sc[sc] = {"origin": origin, "rep": rep, "rsl_docs": part["rsl_docs"], "date": part["date"]}
            crawl, signals = part["crawl"], part["content_signals"]   # shared by classes: each made JSON once
            crawl_json = (as_json.get(id(crawl)) or as_json.setdefault(id(crawl), (crawl, crawl.to_json())))[1]
            signals_json = (as_json.get(id(signals)) or as_json.setdefault(id(signals), (signals, signals.to_json())))[1]
            parts["site"][sc] = {"origin": origin, "representative_path": rep if origin else None,
                                 "crawl": crawl_json, "content_signals": signals_json}
            rows["okey"].append(okeys[i])
            rows["sig"].append(sigs[i])
            rows["sc"].append(sc)
            rows["crawl"].append(part["crawl"].value)
            rows["content_signals"].append(part["content_signals"].value)
            rows["ar"].append(ar)
            rows["tf"].append(tf)
            rows["rsl_docs"].append(bool(part["rsl_docs"]))
        table = self.put(pa.table(rows).rename_columns(["c_okey", "c_sig", "sc", "crawl", "content_signals", "ar",
                                                       "tf", "rsl_docs"]))
        base = base.join(table, [base.okey == table.c_okey, base.sig == table.c_sig]).drop("c_okey", "c_sig", "sig")
        return base, parts

    def _header_rows(self, manifest: Manifest, reader: Reader) -> tuple[dict[str, list], dict[int, dict]]:
        """Each header class read (Python only: no engine call)."""
        rows = {"h_hsig": [""], "hc": [0], "ah": [0], "th": [0], "noai": [ABSENT], "rl": [0]}
        parts: dict[int, dict] = {0: {"fields": {}, "noai": Part("noai", ABSENT).to_json()}}
        interned_ah: dict[tuple, int] = {(): 0}
        interned_th: dict[Any, int] = {None: 0}
        interned_rl: dict[tuple, int] = {(): 0}
        self._ah_values: dict[int, tuple] = {0: ()}
        self._th_values: dict[int, Any] = {0: None}
        self._rl_values: dict[int, tuple] = {0: ()}
        for hc, (key, bundle) in enumerate(manifest.bundles.items(), start=1):
            part = reader.header_class(key)
            ah = interned_ah.setdefault(part["aipref_header"], len(interned_ah))
            self._ah_values[ah] = part["aipref_header"]
            th = interned_th.setdefault(part["tdm_header"], len(interned_th))
            self._th_values[th] = part["tdm_header"]
            rl = interned_rl.setdefault(part["rsl_links"], len(interned_rl))
            self._rl_values[rl] = part["rsl_links"]
            parts[hc] = bundle.to_json() | {"noai": part["noai"].to_json()}
            for name, value in (("h_hsig", key), ("hc", hc), ("ah", ah), ("th", th), ("noai", part["noai"].value),
                                ("rl", rl)):
                rows[name].append(value)
        return rows, parts

    def _cawg_rows(self, manifest: Manifest, reader: Reader) -> tuple[dict[str, list], dict[int, dict]]:
        """Each captured C2PA manifest store read (Python only: no engine call)."""
        stores = pc.unique(manifest.items["c2pa"].drop_null()).to_pylist()
        rows = {"w_c2pa": [""], "cw": [0], "cawg": [ABSENT]}
        parts: dict[int, dict] = {0: Part("cawg", ABSENT).to_json()}
        for cw, store in enumerate(stores, start=1):
            part = reader.cawg(store)
            parts[cw] = part.to_json()
            rows["w_c2pa"].append(store)
            rows["cw"].append(cw)
            rows["cawg"].append(part.value)
        return rows, parts

    def _pairs(self, keyed, reader: Reader):
        """AIPREF (robots rule × header), TDMRep (file × headers), RSL (site documents × Link documents)."""
        parts: dict[str, dict[int, dict]] = {"aipref": {}, "tdmrep": {}, "rsl": {}}
        keyed = keyed.mutate(rr=(keyed.rsl_docs | (keyed.rl > 0)).ifelse(keyed.sc, 0))
        combos = self.arrow(keyed.select("ar", "ah", "tf", "th", "rr", "rl").distinct())   # one job for the three
        # Numbered in key order, not in the order the engine found them: the same numbers in every run.
        aip = combos.group_by(["ar", "ah"]).aggregate([]).sort_by([("ar", "ascending"), ("ah", "ascending")])
        tdp = combos.group_by(["tf", "th"]).aggregate([]).sort_by([("tf", "ascending"), ("th", "ascending")])
        rsp = combos.group_by(["rr", "rl"]).aggregate([]).sort_by([("rr", "ascending"), ("rl", "ascending")])
        rows = {"p_ar": [], "p_ah": [], "ap": [], "aipref": []}
        for n, (ar, ah) in enumerate(zip(aip["ar"].to_pylist(), aip["ah"].to_pylist()), start=1):
            robots_signals, date = self._ar_values[ar]
            part = reader.aipref(robots_signals, self._ah_values[ah], date)
            parts["aipref"][n] = part.to_json()
            for k, v in (("p_ar", ar), ("p_ah", ah), ("ap", n), ("aipref", part.value)):
                rows[k].append(v)
        ap_t = self.put(pa.table(rows))
        rows = {"p_tf": [], "p_th": [], "tp": [], "tdmrep": []}
        for n, (tf, th) in enumerate(zip(tdp["tf"].to_pylist(), tdp["th"].to_pylist()), start=1):
            step, date = self._tf_values[tf]
            part = reader.tdm(step, self._th_values[th], None, date)
            parts["tdmrep"][n] = part.to_json()
            for k, v in (("p_tf", tf), ("p_th", th), ("tp", n), ("tdmrep", part.value)):
                rows[k].append(v)
        tp_t = self.put(pa.table(rows))
        rows = {"p_rr": [], "p_rl": [], "rp": [], "rsl": []}
        for n, (rr, rl) in enumerate(zip(rsp["rr"].to_pylist(), rsp["rl"].to_pylist()), start=1):
            if rr == 0:
                part = Part("rsl", ABSENT)
            else:
                sc = self._sc[rr]
                url = (sc["origin"] or "") + sc["rep"]
                part = reader.rsl(sc["rsl_docs"], self._rl_values[rl], url, sc["date"])
            parts["rsl"][n] = part.to_json()
            for k, v in (("p_rr", rr), ("p_rl", rl), ("rp", n), ("rsl", part.value)):
                rows[k].append(v)
        rp_t = self.put(pa.table(rows))
        keyed = keyed.join(ap_t, [keyed.ar == ap_t.p_ar, keyed.ah == ap_t.p_ah]).drop("p_ar", "p_ah")
        keyed = keyed.join(tp_t, [keyed.tf == tp_t.p_tf, keyed.th == tp_t.p_th]).drop("p_tf", "p_th")
        keyed = keyed.join(rp_t, [keyed.rr == rp_t.p_rr, keyed.rl == rp_t.p_rl]).drop("p_rr", "p_rl")
        return keyed, parts

    # --- 4: registry ---------------------------------------------------------------------------

    def near(self, manifest: Manifest, registry: RegistryIndex, radius: int) -> pa.Table:
        """(item, number, distance) for every item Content-Code within ``radius`` of a registered one
        of the same kind — exact."""
        if self.name == "spark":
            return self._near_spark(manifest, registry, radius)
        items = manifest.items
        return self.near_codes(items["content_kind"], items["content_body"], registry, radius,
                               valid=pc.is_null(items["error"]))

    def near_codes(self, kinds: Any, bodies: Any, registry: RegistryIndex, radius: int,
                   valid: Any = None, worker: Any = None) -> pa.Table:
        """(item, number, distance) for Content-Codes given by row (``kinds``, ``bodies``; the row
        is the item): what :meth:`near` does, from the codes alone, so it can start before the
        manifest's other columns are read. ``valid`` (by row) leaves rows out. ``worker``: a
        :class:`~obra.identify.near_worker.NearWorker`, used for :data:`PROCESS_QUERIES` queries or
        more (the search then never waits for this process's GIL, which the signal readers hold)."""
        out = []
        found = set(pc.unique(kinds).drop_null().to_pylist())
        rows = pa.array(np.arange(len(bodies), dtype=np.int64))
        for kind in sorted(found & set(pc.unique(registry.codes["kind"]).to_pylist())):
            mask = pc.equal(kinds, kind)
            if valid is not None:
                mask = pc.and_(mask, valid)
            q_rows, q_bodies = rows.filter(mask), pc.filter(bodies, mask)
            x = registry.codes.filter(pc.equal(registry.codes["kind"], kind))
            q_codes, x_codes = q_bodies.to_numpy().view(np.uint64), x["body"].to_numpy().view(np.uint64)
            if worker is not None and (q_codes.size >= PROCESS_QUERIES or kind in worker.prepared):
                pairs = worker.search(q_codes, x_codes, radius, self.threads,
                                      prepared=kind if kind in worker.prepared else None)
            else:
                pairs = near_duplicate_arrays(q_codes, x_codes, radius, self.threads)
            query, indexed, distance = (pa.array(a) for a in pairs)
            out.append(pa.table({"n_item": q_rows.take(query), "number": x["number"].take(indexed),
                                 "distance": pc.cast(distance, pa.int64())}))
        if not out:
            return pa.table({"n_item": pa.array([], pa.int64()), "number": pa.array([], pa.string()),
                             "distance": pa.array([], pa.int64())})
        return pa.concat_tables(out)

    @staticmethod
    def prepare_near(registry: RegistryIndex, radius: int, worker: Any) -> list[str]:
        """Have ``worker`` build the tables of the registry's Content-Codes of each kind that has
        :data:`PROCESS_QUERIES` codes or more, while the manifest is read (about a third of a large
        search; a kind no item turns out to have costs that work for nothing, a small one is not worth
        it); returns the kinds prepared. :meth:`near_codes` then uses them."""
        kinds = registry.codes["kind"]
        counts = pc.value_counts(kinds.drop_null()) if len(kinds) else []
        prepared = []
        for entry in counts:
            kind, n = entry["values"].as_py(), entry["counts"].as_py()
            if n >= PROCESS_QUERIES:
                x = registry.codes.filter(pc.equal(kinds, kind))
                worker.prepare(kind, x["body"].to_numpy().view(np.uint64), radius)
                prepared.append(kind)
        return prepared

    @staticmethod
    def _checkable(pairs: pa.Table, manifest: Manifest) -> pa.Table:
        """Near-duplicate pairs of readable items only (a search started before the rows were checked)."""
        ok = pc.is_null(manifest.items["error"]).combine_chunks()
        return pairs.filter(ok.take(pairs["n_item"])) if pairs.num_rows else pairs

    def _near_spark(self, manifest: Manifest, registry: RegistryIndex, radius: int) -> pa.Table:
        """Multi-index hashing as Spark equi-joins: the query side's block values with every flip
        mask, joined to the indexed side's block values; every candidate verified by the popcount of
        the full XOR; a pair kept only by the first block that finds it. Exact, as the DuckDB path."""
        from pyspark.sql import functions as F

        spark = self.con._session
        items = manifest.items.filter(pc.and_(pc.is_valid(manifest.items["content_kind"]),
                                              pc.is_null(manifest.items["error"])))
        if items.num_rows == 0 or registry.codes.num_rows == 0:
            return pa.table({"n_item": pa.array([], pa.int64()), "number": pa.array([], pa.string()),
                             "distance": pa.array([], pa.int64())})
        q = spark.createDataFrame(items.select(["item", "content_kind", "content_body"]).rename_columns(
            ["item", "kind", "qb"]))
        # Each query becomes ~250 probe rows per block: small partitions keep every task's share small.
        q = q.repartition(max(4, items.num_rows // 10_000))
        x = spark.createDataFrame(registry.codes.rename_columns(["number", "kind", "xb"]))
        blocks = bulk_blocks(radius)
        found = None
        for i, blk in enumerate(blocks):
            masks = spark.createDataFrame([(int(f),) for f in flips(blk.width, blk.tolerance)], ["f"])
            key = lambda c: F.expr(f"shiftrightunsigned({c}, {blk.shift}) & {blk.mask}")  # noqa: E731
            qk = q.crossJoin(F.broadcast(masks)).withColumn("key", key("qb").bitwiseXOR(F.col("f"))).drop("f")
            xk = x.withColumn("key", key("xb"))
            cand = qk.join(xk, ["kind", "key"]).withColumn("distance", F.expr("bit_count(qb ^ xb)"))
            cond = F.col("distance") <= radius
            for e in blocks[:i]:
                cond = cond & (F.expr(f"bit_count(shiftrightunsigned(qb ^ xb, {e.shift}) & {e.mask})") > e.tolerance)
            step = cand.filter(cond).select(F.col("item").alias("n_item"), "number", F.col("distance").cast("long"))
            found = step if found is None else found.unionAll(step)
        return pa.Table.from_pandas(found.toPandas(), preserve_index=False).cast(pa.schema(
            [("n_item", pa.int64()), ("number", pa.string()), ("distance", pa.int64())]))

    def _registry(self, base, manifest: Manifest, registry: RegistryIndex, q: Question, near: Any = None):
        """Per item: ``registry`` (the most restrictive permission of its matches, or ``none``),
        ``matches`` (number, how, distance, permission, from, terms_event, terms_version), ``location``."""
        ok = base.filter(base.error.isnull())
        pieces = []
        if registry.hashes.num_rows:
            h = self.put(registry.hashes.rename_columns(["number", "h_sha256"]))
            pieces.append(ok.filter(ok.sha256.notnull()).join(h, ok.sha256 == h.h_sha256)
                          .select(m_item=ok.item, number=h.number, how=ibis.literal("sha256"),
                                  distance=ibis.literal(0, "int64")))
        if registry.instances.num_rows:
            inst = self.put(registry.instances.rename_columns(["number", "i_body"]))
            pieces.append(ok.filter(ok.instance_body.notnull()).join(inst, ok.instance_body == inst.i_body)
                          .select(m_item=ok.item, number=inst.number, how=ibis.literal("instance"),
                                  distance=ibis.literal(0, "int64")))
        if self.name == "duckdb" and pieces and near is not None:   # computed while the search still runs
            exact = pieces[0]
            for p in pieces[1:]:
                exact = exact.union(p, distinct=False)
            pieces = [self._materialise(exact)]
        tclass = self.put(evaluate_terms(registry.documents, pc.unique(registry.terms["uses_hash"]).to_pylist(), q.use,
                                         territory=q.jurisdiction, purpose=q.purpose, commercial=q.commercial,
                                         on=q.on))
        terms = self.put(registry.terms)
        instant = dt.Timestamp(timezone="UTC")
        until = terms.until if "until" in terms.columns else ibis.null("string")
        ranked = self._materialise(terms.join(tclass, terms.uses_hash == tclass.uses_hash).select(
            t_kind=terms.subject_kind, t_subject=terms.subject, t_version=terms.version,
            t_event=terms.journal_event, t_rank=tclass.rank, t_from=terms.set_at.cast(instant),
            t_until=until.cast(instant)))
        at = ibis.literal(datetime.combine(q.on + timedelta(days=1), time.min, timezone.utc), instant)
        best = self._locations(ok, registry, ranked, at)
        # Each registration's own terms in force, and its parties' most restrictive catalogue terms.
        own = ranked.filter(ranked.t_kind.isin(["work", "recording"]))
        own = own.filter(_in_force(at, own)).select(o_number=own.t_subject, own_rank=own.t_rank,
                                                     own_event=own.t_event, own_version=own.t_version)
        catalogue = None
        if registry.parties.num_rows:
            parties = self.put(registry.parties.rename_columns(["p_number", "party"]))
            cat_terms = ranked.filter(ranked.t_kind == "party")
            cat = parties.join(cat_terms, [parties.party == cat_terms.t_subject, _in_force(at, cat_terms)])
            catalogue = self._materialise(cat.group_by(c_number=cat.p_number).aggregate(
                cat_rank=cat.t_rank.min(), cat_event=cat.t_event.argmin(cat.t_rank),
                cat_party=cat.party.argmin(cat.t_rank), cat_version=cat.t_version.argmin(cat.t_rank)))
        # The near-duplicate pairs last: everything above runs while the search may still be running.
        near = near.result() if near is not None else self.near(manifest, registry, q.radius)
        if near.num_rows:
            nt = self.put(near)
            pieces.append(nt.select(m_item=nt.n_item, number=nt.number, how=ibis.literal("iscc"),
                                    distance=nt.distance))
        # Only the items with a match or under a registered location: every other item's registry
        # reading is "none" (filled in by the caller's left join), so the result holds ~a third of the rows.
        out = None
        if pieces:
            matches = pieces[0]
            for p in pieces[1:]:
                matches = matches.union(p, distinct=False)
            priority = ibis.cases((matches.how == "sha256", 0), (matches.how == "instance", 1), else_=2)
            matches = matches.mutate(pri=priority)
            matches = matches.group_by(["m_item", "number"]).aggregate(
                distance=matches.distance.min(), how=matches.how.argmin(matches.pri))
            mo = matches.left_join(own, matches.number == own.o_number)
            mo = mo.select("m_item", "number", "distance", "how", own_rank=mo.own_rank.fill_null(3),
                           own_event=mo.own_event, own_version=mo.own_version)
            if catalogue is not None:
                mo = mo.left_join(catalogue, mo.number == catalogue.c_number).drop("c_number")
            else:
                mo = mo.mutate(cat_rank=ibis.null("int64"), cat_event=ibis.null("int64"),
                               cat_party=ibis.null("string"), cat_version=ibis.null("int64"))
            own_decides = mo.own_rank < 3
            mo = mo.mutate(rank=own_decides.ifelse(mo.own_rank, mo.cat_rank.fill_null(3)),
                           source=own_decides.ifelse("own terms", mo.cat_rank.notnull().ifelse(
                               ibis.literal("catalogue of party ") + mo.cat_party.fill_null(""), "no terms")),
                           event=own_decides.ifelse(mo.own_event, mo.cat_event),
                           version=own_decides.ifelse(mo.own_version, mo.cat_version))
            mo = mo.mutate(permission=ibis.cases(*[(mo.rank == k, v) for k, v in _RANK_NAME.items()]))
            entry = ibis.struct({"distance": mo.distance, "number": mo.number, "how": mo.how,
                                 "permission": mo.permission, "from": mo.source, "terms_event": mo.event,
                                 "terms_version": mo.version})
            per_item = mo.mutate(entry=entry).group_by("m_item").aggregate(
                m_rank=mo.rank.min(), matches=entry.collect().sort())   # nearest first
            out = per_item.rename(item="m_item")
        if out is not None and best is not None:
            out = out.outer_join(best, out.item == best.l_item)
            out = out.mutate(item=out.item.fill_null(out.l_item)).drop("l_item")
        elif best is not None:
            out = best.rename(item="l_item").mutate(m_rank=ibis.null("int64"), matches=ibis.null(_MATCHES))
        elif out is not None:
            out = out.mutate(location=ibis.null("string"), l_rank=ibis.null("int64"), l_event=ibis.null("int64"))
        else:
            out = base.select("item").filter(ibis.literal(False)).mutate(
                m_rank=ibis.null("int64"), matches=ibis.null(_MATCHES), location=ibis.null("string"),
                l_rank=ibis.null("int64"), l_event=ibis.null("int64"))
        rank = ibis.least(out.m_rank.fill_null(3), out.l_rank.fill_null(3))
        out = out.mutate(registry=ibis.cases(*[(rank == k, v) for k, v in _RANK_NAME.items()]))
        return out.rename(r_item="item").select("r_item", "registry", "matches", "location", "l_event")

    def _locations(self, ok, registry: RegistryIndex, ranked, at):
        """Per item under a registered web location: the most specific location, its terms' rank and
        event (a table; None when no location is registered)."""
        locations = registry.locations()
        if not locations.num_rows:
            return None
        loc = self.put(locations.rename_columns(["l_origin", "like", "length", "l_subject"]))
        lit = ok.select("item", "origin", lpath=_esc(ok.path))
        lhits = lit.join(loc, lit.origin == loc.l_origin).filter(lambda t: t.lpath.like(t.like))
        best = lhits.group_by("item").aggregate(location=lhits.l_subject.argmax(lhits.length))
        lterms = ranked.filter(ranked.t_kind == "location")
        best = best.left_join(lterms, [best.location == lterms.t_subject, _in_force(at, lterms)]).select(
            l_item=best.item, location=best.location, l_rank=lterms.t_rank.fill_null(3), l_event=lterms.t_event)
        return self._materialise(best)

    # --- the run -------------------------------------------------------------------------------

    def run(self, manifest: Manifest, sites: Sites, registry: RegistryIndex, q: Question, *,
            licensed: set[int] | frozenset[int] = frozenset(), near: Any = None) -> CheckRun:
        """Every step; ``near``: the near-duplicate search already under way (a future of
        :meth:`near_codes` over every row's codes, started while the manifest was read), else run here."""
        import time as timer

        timings: dict[str, float] = {}
        clock, cpu = timer.perf_counter(), timer.process_time()

        def lap(name: str) -> None:
            """Wall and process CPU seconds of a step (CPU: every thread's, the engine's included;
            on a busy machine the CPU figure is the steadier one)."""
            nonlocal clock, cpu
            now, now_cpu = timer.perf_counter(), timer.process_time()
            timings[name] = round(now - clock, 3)
            timings[f"{name}_cpu"] = round(now_cpu - cpu, 3)
            clock, cpu = now, now_cpu

        reader = Reader(sites, manifest.bundles, use=q.use, agent=q.user_agent, user=q.rsl_user,
                        country=q.jurisdiction)
        # The near-duplicate search (NumPy, the GIL released) runs while the signal classes are read.
        pool = ThreadPoolExecutor(2, thread_name_prefix="obra-check")
        started = timer.perf_counter()

        early = near

        def near_step() -> pa.Table:
            if early is not None and self.name == "duckdb":
                pairs = self._checkable(early.result(), manifest)
            else:
                pairs = self.near(manifest, registry, q.radius)
            timings["near_duplicates_done_at"] = round(timer.perf_counter() - started, 3)   # wall, from the start
            return pairs

        near = pool.submit(near_step)
        columns = ["item", "line", "url", "origin", "path", "sha256", "instance_body", "hsig", "c2pa", "crawled_at",
                   "error", "notes"]
        items_name = "obra_check_items"
        items = self.put(manifest.items.select(columns), items_name)
        # The registry's joins (in the engine, the GIL released) run while Python reads the signal
        # classes: on a second connection on DuckDB; on Spark, lazily in the plan as before.
        if self.name == "duckdb":
            side = self.side()
            def registry_step() -> str:
                name = f"obra_check_registry_{next(self._names)}"
                side._materialise(side._registry(side.table(items_name), manifest, registry, q, near), name)
                timings["registry_joins_done_at"] = round(timer.perf_counter() - started, 3)
                return name

            registered = pool.submit(registry_step)
        else:
            registered = None
        # The header classes and C2PA stores are read by Python while the engine computes the items'
        # site signatures.
        read: dict[str, tuple] = {}

        def headers_and_c2pa() -> None:
            read["header"] = self._header_rows(manifest, reader)
            read["cawg"] = self._cawg_rows(manifest, reader)

        base, site_parts = self._site_classes(items, manifest, sites, reader, q.user_agent, headers_and_c2pa)
        lap("site_classes")
        (header_rows, header_parts), (cawg_rows, cawg_parts) = read["header"], read["cawg"]
        hc_t, cw_t = self.put(pa.table(header_rows)), self.put(pa.table(cawg_rows))
        keyed = base.mutate(hkey=base.hsig.fill_null(""), wkey=base.c2pa.fill_null(""))
        keyed = keyed.join(hc_t, keyed.hkey == hc_t.h_hsig).drop("h_hsig")
        keyed = keyed.join(cw_t, keyed.wkey == cw_t.w_c2pa).drop("w_c2pa")
        keyed, pair_parts = self._pairs(keyed, reader)
        lap("signal_classes")
        try:
            reg = self.table(registered.result()) if registered is not None else \
                self._registry(keyed, manifest, registry, q, near)
        finally:
            pool.shutdown(wait=True)
        keyed = keyed.left_join(reg, keyed.item == reg.r_item).drop("r_item")
        if licensed:   # a join, not an IN list: a licence may cover millions of items
            lic = self.put(pa.table({"lic_item": pa.array(sorted(licensed), pa.int64())}))
            keyed = keyed.left_join(lic, keyed.item == lic.lic_item)
            keyed = keyed.mutate(is_licensed=keyed.lic_item.notnull()).drop("lic_item")
        else:
            keyed = keyed.mutate(is_licensed=ibis.literal(False))
        keyed = keyed.mutate(registry=keyed.registry.fill_null("none"), is_error=keyed.error.notnull())
        keyed = self._materialise(keyed)
        self._drop(items, base, reg)   # keyed holds what the rest needs
        lap("registry")
        fields = ["is_error", "crawl", "aipref", "content_signals", "tdmrep", "rsl", "noai", "cawg", "registry",
                  "is_licensed"]
        distinct = self.arrow(keyed.select(*fields).distinct())
        distinct = distinct.sort_by([(f, "ascending") for f in fields])   # numbered the same in every run
        rows: dict[str, list] = {f"d_{f}": [] for f in fields} | {"decision_id": [], "decision": [], "rule": [],
                                                                     "reservations": [], "conflict": []}
        decisions: dict[int, dict] = {}
        for n, row in enumerate(distinct.to_pylist(), start=1):
            key = key_of({"error": row["is_error"], "licensed": row["is_licensed"],
                          **{f: row[f] for f in fields if not f.startswith("is_")}})
            decision = decide(key, q.rule)
            decisions[n] = decision.to_json() | {"key": key.__dict__}
            for f in fields:
                rows[f"d_{f}"].append(row[f])
            rows["decision_id"].append(n)
            rows["decision"].append(decision.decision)
            rows["rule"].append(decision.rule)
            rows["reservations"].append(",".join(r["signal"] for r in decision.reservations if r.get("counts")))
            rows["conflict"].append(bool(decision.conflicts))
        dec_t = self.put(pa.table(rows))
        result = keyed.join(dec_t, [keyed[f] == dec_t[f"d_{f}"] for f in fields])
        result = result.select(
            "item", "line", "url", "decision", "reservations", "conflict", "registry", "matches", "location",
            "crawl", "aipref", "content_signals", "tdmrep", "rsl", "noai", "cawg",
            "decision_id", site_class="sc", header_class="hc", aipref_id="ap", tdmrep_id="tp", rsl_id="rp",
            cawg_id="cw", location_event="l_event", crawled_at="crawled_at", error="error", notes="notes")
        result = self._materialise(result, "obra_check_result", order_by="item")
        self._drop(keyed)
        lap("decide")
        summary = self.summarise(result)
        lap("summary")
        parts = {"site": site_parts["site"], "header": header_parts, "cawg": cawg_parts, **pair_parts}
        return CheckRun(result, parts, decisions, summary, self, timings)

    def _drop(self, *tables) -> None:
        """Free materialised tables no later step reads (DuckDB drops them, Spark unpersists)."""
        for table in tables:
            name = getattr(table.op(), "name", None)   # the bare name (get_name() is qualified: memory.main.x)
            if not isinstance(name, str):   # an expression, not a table: nothing held
                continue
            if self.name == "duckdb":
                self.con.con.execute(f'DROP TABLE IF EXISTS "{name}"')
            else:
                self.con._session.catalog.uncacheTable(name) if self.con._session.catalog.tableExists(name) else None

    def _materialise(self, expr, name: str | None = None, *, order_by: str | None = None):
        """Compute ``expr`` once into a table of the backend (later steps read it several times):
        a table of the engine's own in-memory database on DuckDB, a cached temporary view on Spark.

        ``order_by``: on DuckDB the table is stored in that order (insertion order kept), so a
        writer streams it in order without sorting it again."""
        name = name or f"obra_check_m{next(self._names)}"
        if self.name == "duckdb":
            if order_by is None:
                return self.con.create_table(name, expr)
            raw = self.con.con
            raw.execute("SET preserve_insertion_order = true")
            try:
                sql = self.con.compile(expr.order_by(order_by))
                raw.execute(f'CREATE TABLE "{name}" AS {sql}')
            finally:
                raw.execute("SET preserve_insertion_order = false")
            self._ordered = name
            return self.con.table(name)
        self.con.create_view(name, expr, overwrite=True)
        self.con._session.table(name).cache().createOrReplaceTempView(name)
        return self.con.table(name)

    def summarise(self, result) -> dict:
        """Counts per decision, conflicts, registry matches, unreadable rows and counting reservations
        per signal — from one aggregation (one job on Spark)."""
        grouped = result.group_by([
            "decision", "reservations", "conflict", (result.registry != "none").name("with_terms"),
            result.error.notnull().name("unreadable"), result.matches.notnull().name("matched"),
        ]).aggregate(n=result.count())
        rows = self.arrow(grouped).to_pylist()
        decisions = {d: 0 for d in ("allowed", "reserved", "licence-required", "licensed", "unknown")}
        by_signal: dict[str, int] = {}
        totals = {"conflicts": 0, "with_terms": 0, "unreadable": 0, "matched": 0}
        for row in rows:
            n = int(row["n"])
            decisions[row["decision"]] = decisions.get(row["decision"], 0) + n
            for name in filter(None, (row["reservations"] or "").split(",")):
                by_signal[name] = by_signal.get(name, 0) + n
            for flag, column in (("conflicts", "conflict"), ("with_terms", "with_terms"),
                                 ("unreadable", "unreadable"), ("matched", "matched")):
                totals[flag] += n if row[column] else 0
        return {"items": sum(decisions.values()), "decisions": decisions, "conflicts": totals["conflicts"],
                "items_with_registry_terms": totals["with_terms"], "items_matched_in_registry": totals["matched"],
                "unreadable": totals["unreadable"], "counting_reservations_by_signal": dict(sorted(by_signal.items()))}

    # --- output --------------------------------------------------------------------------------

    def write(self, run: CheckRun, out_dir: Path, formats: tuple[str, ...] = RESULT_FORMATS) -> dict[str, str]:
        """The per-item results in each of ``formats`` (Parquet, CSV, JSON; DuckDB: one file each;
        Spark: one directory of part files each) and the class parts as JSON; returns the paths."""
        out_dir.mkdir(parents=True, exist_ok=True)
        files = {f: out_dir / RESULT_FILES[f] for f in RESULT_FORMATS if f in formats} | {
            "parts": out_dir / RESULT_FILES["parts"]}
        # CSV and JSON leave out the per-standard values, which the decision key in parts.json holds
        # (decisions[decision_id].key); Parquet keeps them, for filtering.
        compact = [c for c in run.items.columns if c not in STANDARD_COLUMNS]
        # The class parts are serialised by Python while the engine writes the items (the GIL released).
        with ThreadPoolExecutor(1, thread_name_prefix="obra-parts") as pool:
            parts = pool.submit(lambda: files["parts"].write_text(
                dumps({"parts": run.parts, "decisions": run.decisions}), encoding="utf-8"))
            self._write_items(run, files, compact)
            parts.result()
        return {k: str(v) for k, v in files.items()}

    def _write_items(self, run: CheckRun, files: dict[str, Path], compact: list[str]) -> None:
        if self.name == "duckdb":
            raw = self.con.con
            table = run.items.get_name()
            # In item order: the result table is stored in it (see _materialise), read in insertion order.
            order = "" if self._ordered == run.items.op().name else " ORDER BY item"
            raw.execute("SET preserve_insertion_order = true")
            if "parquet" in files:
                raw.execute(f"COPY (SELECT * FROM {table}{order}) TO '{_sql_path(files['parquet'])}' "
                            "(FORMAT PARQUET, COMPRESSION ZSTD)")
            if "csv" in files:
                cols = ", ".join(f'"{c}"' if c != "matches" else
                                 "CASE WHEN matches IS NULL THEN NULL ELSE to_json(matches)::VARCHAR END AS matches"
                                 for c in compact)
                raw.execute(f"COPY (SELECT {cols} FROM {table}{order}) TO '{_sql_path(files['csv'])}' "
                            "(FORMAT CSV, HEADER)")
            if "json" in files:
                cols = ", ".join(f'"{c}"' for c in compact)
                raw.execute(f"COPY (SELECT {cols} FROM {table}{order}) TO '{_sql_path(files['json'])}' "
                            "(FORMAT JSON, ARRAY true)")
            raw.execute("SET preserve_insertion_order = false")
        else:
            from pyspark.sql import functions as F

            df = self.con._session.table(run.items.get_name()).orderBy("item")
            if "parquet" in files:
                df.write.mode("overwrite").parquet(str(files["parquet"]))
            small = df.select(*compact)
            if "csv" in files:
                small.withColumn("matches", F.to_json("matches")).write.mode("overwrite").option("header", True).csv(
                    str(files["csv"]))
            if "json" in files:
                small.write.mode("overwrite").json(str(files["json"]))

    def close(self) -> None:
        if self.name == "duckdb":
            self.con.disconnect()


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")
