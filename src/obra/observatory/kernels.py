"""The payment models as set-based DuckDB SQL over one staged table: what makes a national market's report fast.

:func:`obra.royalties.distribution.distribute` builds each model as Ibis expressions that re-read and
re-join the usage for every run and sort wide windows in ``DECIMAL(38,0)``; a report runs three
models and a scenario, so on 10 million lines most of its time went there. Here the period's usage
is joined to its matches **once** into a staged DuckDB table (:class:`Stage`: one row per usage line
with its pool, item, listener, use type and case-folded artist), and every model is a few grouped
queries over it:

* **pro-rata** — plays summed per pool and item, each pool split over them;
* **user-centric** — each subscriber's plays counted once, each line's share of the subscriber's
  payment kept to 10^-k of a minor unit (as :func:`obra.royalties.distribution.user_centric` does,
  floored per line), summed per item, each pool split over the sums; non-subscriber money pro-rata;
* **artist-centric** — the per-listener cap computed only for the listeners above it (a grouped
  total, then one windowed split over their rows), the "professional" artists from one grouped
  count, weights as integers, the pools split over the weighted plays.

The rules are the royalty engine's (the parameters are :class:`~obra.royalties.distribution.ArtistCentric`,
presets are data) and so is the rounding: :func:`allocate_sql` is :func:`~obra.royalties.distribution.allocate_expr`
in SQL (floors, then one minor unit each to the largest remainders, ties to matched items by number,
the unmatched bucket last), computed in ``HUGEINT`` (128-bit integers, exact) instead of
``DECIMAL(38,0)``. The tests (``tests/observatory/test_kernels.py``) run both on random markets
and require the same allocations to the minor unit; every run here checks that money is conserved.

This is the DuckDB path of :func:`obra.observatory.scenarios.run_rules`; Spark keeps the Ibis models.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Any

import ibis

from obra.money import assert_conserved
from obra.royalties.distribution import ArtistCentric, Distribution
from obra.royalties.distribution.artist_centric import artist_params
from obra.royalties.distribution.user_centric import USER_SHARE_DIGITS
from obra.royalties.records import ALLOCATION_KEYS, POOL_KEYS
from obra.errors import InvalidInput, Problem

POOL = ", ".join(POOL_KEYS)
ALLOC = ", ".join(ALLOCATION_KEYS)
#: Ties of the largest-remainder rule: matched items first, by number; the unmatched bucket last.
ITEM_TIES = "item IS NULL, coalesce(item, '')"


def _on(keys: tuple[str, ...] | list[str], a: str, b: str) -> str:
    return " AND ".join(f"{a}.{k} = {b}.{k}" for k in keys)


def allocate_sql(source: str, by: str, amount: str, weight: str, ties: str = ITEM_TIES,
                 out: str = "amount_minor") -> str:
    """SQL adding ``out`` to the rows of ``source``: ``amount`` (constant per ``by`` partition) split over
    ``weight`` by the largest-remainder rule, ties by ``ties`` (the rule of ``allocate_expr``, in HUGEINT).

    A partition whose weights sum to zero gets nothing (the caller holds its money as unallocated).
    """
    return f"""
    SELECT * EXCLUDE (_rem, _fl, _left),
           CASE WHEN _fl IS NULL THEN 0::BIGINT
                ELSE (_fl + CASE WHEN row_number() OVER (PARTITION BY {by} ORDER BY _rem DESC, {ties}) <= _left
                                 THEN 1 ELSE 0 END)::BIGINT END AS {out}
    FROM (
      SELECT *, {amount} - sum(_fl) OVER (PARTITION BY {by}) AS _left
      FROM (
        SELECT *, (_p % _t) AS _rem, (_p // _t)::BIGINT AS _fl
        FROM (
          SELECT *, {amount}::HUGEINT * {weight}::HUGEINT AS _p,
                 nullif(sum({weight}::HUGEINT) OVER (PARTITION BY {by}), 0) AS _t
          FROM ({source})
        )
      )
    )"""


class Stage:
    """One period's usage joined to its matches once, as DuckDB temporary tables, and the models over it.

    * ``keys``: the pool slices (period, territory, service, commercial model) numbered ``pool_id``,
      with the rank of each slice in the tie order of the per-listener cap;
    * ``artists``: each spelling of an artist (``artist_h``) and its case-folded key, numbered
      ``artist_id`` in key order;
    * ``lines``: one row per usage line — ``pool_id, period_id, item, method, user_id, use_type,
      artist_h, plays`` (``item`` null when unmatched, ``method`` null when the line has no match row);
    * ``pools``: the pools with their ``pool_id``.

    Strings that repeat on every line (the slice, the artist) become integers once, so the models'
    joins and groupings over millions of lines hash small integers. Nothing is converted to Python
    objects: a model writes its allocations to temporary tables read back as Ibis tables.
    """

    _count = 0

    def __init__(self, con: Any, usage: ibis.Table, pools: ibis.Table, matches: ibis.Table | None,
                 target: str = "recording", threads: int | None = None, hashed: bool = True):
        if con.name != "duckdb":
            raise InvalidInput(Problem(f"the staged models run on DuckDB, not {con.name}", field="engine"))
        Stage._count += 1
        self.con = con
        self.db = con.con
        self.prefix = f"obra_stage_{Stage._count}_{id(self):x}"
        if threads:
            self.db.execute(f"SET threads = {int(threads)}")
        column = {"recording": "recording_number", "work": "work_number"}[target]
        p = self.prefix
        self._view("usage", usage)
        self._view("pools_in", pools)
        self.keys, self.artists = f"{p}_keys", f"{p}_artists"
        self.lines, self.pools = f"{p}_lines", f"{p}_pools"
        same = " AND ".join(f"u.{k} IS NOT DISTINCT FROM k.{k}" for k in POOL_KEYS)
        # The slices and the artists' spellings, from one scan of the usage (and the pools' slices).
        self.db.execute(f"""CREATE OR REPLACE TEMP TABLE {p}_dims AS
            SELECT {POOL}, artist, GROUPING(artist) AS g FROM {p}_usage
            GROUP BY GROUPING SETS (({POOL}), (artist))""")
        # A slice's id is the hash of its keys, an artist spelling's the hash of the spelling: each line
        # computes its own ids without a join. Checked free of collisions; if they ever collide, ids are
        # numbers looked up by joins instead (slower, the same result).
        self.db.execute(f"""CREATE OR REPLACE TEMP TABLE {self.keys} AS
            SELECT hash({POOL}) AS pool_id, hash(period) AS period_id,
                   row_number() OVER (ORDER BY {POOL}) AS pool_no, dense_rank() OVER (ORDER BY period) AS period_no,
                   dense_rank() OVER (ORDER BY coalesce(territory, ''), coalesce(service, ''),
                                      coalesce(commercial_model, ''))::INTEGER AS tie_rank,
                   ({' AND '.join(f'{k} IS NOT NULL' for k in POOL_KEYS)}) AS complete, *
            FROM (SELECT {POOL} FROM {p}_dims WHERE g = 1 UNION SELECT {POOL} FROM {p}_pools_in)""")
        # The artist key as the artist-centric model folds it (Ibis' strip: these six characters).
        self.db.execute(f"""CREATE OR REPLACE TEMP TABLE {self.artists} AS
            SELECT artist, hash(artist) AS artist_h, row_number() OVER (ORDER BY artist) AS artist_no, artist_key,
                   dense_rank() OVER (ORDER BY artist_key)::INTEGER AS artist_id
            FROM (SELECT artist, trim(lower(coalesce(artist, '')), ' \t\n\r\x0b\x0c') AS artist_key
                  FROM {p}_dims WHERE g = 0)""")
        self.db.execute(f"DROP TABLE {p}_dims")
        unique = self.db.execute(f"""SELECT
            (SELECT count(DISTINCT pool_id) = count(*) AND count(DISTINCT period_id) = count(DISTINCT period)
             FROM {self.keys}),
            (SELECT count(DISTINCT artist_h) = count(*) FROM {self.artists}),
            (SELECT count(DISTINCT artist_key) = count(*) FROM {self.artists})""").fetchone()
        self.hashed = bool(hashed and unique[0] and unique[1])
        #: whether two spellings share an artist key (then grouping by artist needs the key's id)
        self.folded = not unique[2]
        if not self.hashed:
            self.db.execute(f"UPDATE {self.keys} SET pool_id = pool_no, period_id = period_no")
            self.db.execute(f"UPDATE {self.artists} SET artist_h = artist_no")
            ids = "k.pool_id, k.period_id, a.artist_h"
            dims = (f"JOIN {self.keys} k ON {same} JOIN {self.artists} a ON u.artist IS NOT DISTINCT FROM a.artist")
        else:
            ids = f"hash({', '.join(f'u.{k}' for k in POOL_KEYS)}) AS pool_id, hash(u.period) AS period_id, " \
                  "hash(u.artist) AS artist_h"
            dims = ""
        columns = f"{ids}, {{item}} AS item, {{method}} AS method, u.user_id, u.use_type, u.plays"
        create = f"CREATE OR REPLACE TEMP TABLE {self.lines} AS SELECT"
        self.aligned = False
        if matches is not None:
            self._view("matches", matches)
            item, method = f"m.{column}", "m.method"
            # A usage report's matches are written line by line in its order: then the two files are
            # read side by side (a positional join), checked line by line; otherwise joined by line.
            if not dims:
                self.db.execute(f"""{create} {columns.format(item=item, method=method)},
                    coalesce(u.source = m.source AND u.line = m.line, false) AS aligned
                    FROM {p}_usage u POSITIONAL JOIN {p}_matches m""")
                self.aligned = self.db.execute(f"SELECT bool_and(aligned) FROM {self.lines}").fetchone()[0] is True
            if self.aligned:
                self.db.execute(f"ALTER TABLE {self.lines} DROP COLUMN aligned")
            else:
                self.db.execute(f"""{create} {columns.format(item=item, method=method)}
                    FROM {p}_usage u {dims} LEFT JOIN {p}_matches m ON u.source = m.source AND u.line = m.line""")
        else:
            self.db.execute(f"""{create} {columns.format(item=f"u.{column}", method="NULL::VARCHAR")}
                FROM {p}_usage u {dims}""")
        self.db.execute(f"""CREATE OR REPLACE TEMP TABLE {self.pools} AS
            SELECT k.pool_id, k.complete, u.user_id, u.currency, u.amount_minor
            FROM {p}_pools_in u JOIN {self.keys} k ON {same}""")
        # Plays and usage lines per pool and item: pro-rata's weights and every allocation's plays.
        self.played = f"{p}_played"
        self.db.execute(f"""CREATE OR REPLACE TEMP TABLE {self.played} AS
            SELECT pool_id, item, sum(plays)::BIGINT AS plays, count(*)::BIGINT AS usage_lines
            FROM {self.lines} GROUP BY ALL""")

    @classmethod
    def of_market(cls, market: Any, threads: int | None = None) -> "Stage":
        return cls(market.con, market.usage, market.pools, market.matches, threads=threads)

    def listeners(self) -> str:
        """Per pool and listener (made once): all plays, and the plays and lines with plays > 0 — the
        listeners per slice, user-centric's subscribers' plays and the artist-centric cap's totals."""
        name = f"{self.prefix}_listeners"
        if not getattr(self, "_listeners", None):
            self.db.execute(f"""CREATE OR REPLACE TEMP TABLE {name} AS
                SELECT pool_id, user_id, any_value(period_id) AS period_id, sum(plays)::BIGINT AS plays,
                       (sum(plays) FILTER (WHERE plays > 0))::BIGINT AS positive_plays,
                       count(*) FILTER (WHERE plays > 0) AS positive_lines
                FROM {self.lines} WHERE user_id IS NOT NULL GROUP BY pool_id, user_id""")
            self._listeners = name
        return name

    def plays_by_slice(self) -> tuple[list[dict], str]:
        """Plays, usage lines and distinct listeners per service, territory and commercial model (the rows
        of :func:`obra.observatory.indicators.plays`), and the SQL that made them."""
        same = " AND ".join(f"a.{k} IS NOT DISTINCT FROM b.{k}" for k in ("service", "territory", "commercial_model"))
        query = f"""WITH a AS (SELECT k.service, k.territory, k.commercial_model, sum(p.plays) AS plays,
                                     sum(p.usage_lines) AS lines
                              FROM {self.played} p JOIN {self.keys} k ON p.pool_id = k.pool_id GROUP BY ALL),
                         b AS (SELECT k.service, k.territory, k.commercial_model, count(DISTINCT u.user_id) AS listeners
                              FROM {self.listeners()} u JOIN {self.keys} k ON u.pool_id = k.pool_id GROUP BY ALL)
                    SELECT a.service, a.territory, a.commercial_model, a.plays::BIGINT AS plays,
                           a.lines::BIGINT AS lines, coalesce(b.listeners, 0)::BIGINT AS listeners
                    FROM a LEFT JOIN b ON {same} ORDER BY a.service, a.territory, a.commercial_model"""
        return self._dicts(query), self._shown(query)

    def by_use_and_method(self) -> tuple[list[dict], list[dict], str]:
        """Plays and lines by use type and by match method (null method: ``none``), from one scan of the lines."""
        if getattr(self, "_uses", None):
            return self._uses
        query = f"""SELECT GROUPING(use_type) AS by_method, use_type, method, sum(plays)::BIGINT AS plays,
                           count(*)::BIGINT AS lines
                    FROM (SELECT use_type, coalesce(method, 'none') AS method, plays FROM {self.lines})
                    GROUP BY GROUPING SETS ((use_type), (method)) ORDER BY by_method, use_type, method"""
        rows = self._dicts(query)
        uses = [{"use_type": r["use_type"], "plays": r["plays"], "lines": r["lines"]} for r in rows if not r["by_method"]]
        methods = [{"method": r["method"], "lines": r["lines"], "plays": r["plays"]} for r in rows if r["by_method"]]
        self._uses = (uses, methods, self._shown(query))
        return self._uses

    def _dicts(self, query: str) -> list[dict]:
        cursor = self.db.execute(query)
        names = [d[0] for d in cursor.description]
        return [{k: (int(v) if isinstance(v, int) and not isinstance(v, bool) else v) for k, v in zip(names, row)}
                for row in cursor.fetchall()]

    def _shown(self, query: str) -> str:
        """The query as a reader can rerun it: the staged tables under their names in this module's docstring."""
        return re.sub(rf"{self.prefix}_([a-z]+)", r"\1", " ".join(query.split()))

    def _view(self, name: str, expr: ibis.Table) -> None:
        sql = str(ibis.to_sql(expr, dialect="duckdb"))
        self.db.execute(f"CREATE OR REPLACE TEMP VIEW {self.prefix}_{name} AS {sql}")

    def _materialise(self, sql: str) -> str:
        Stage._count += 1
        name = f"{self.prefix}_t{Stage._count}"
        self.db.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")
        return name

    def table(self, name: str) -> ibis.Table:
        """A staged table (``lines``, ``pools``, a model's output) as an Ibis table on the market's backend."""
        return self.con.table(name)

    def close(self) -> None:
        """Drop the stage's temporary tables and views."""
        for (name,) in self.db.execute("SELECT table_name FROM duckdb_tables() WHERE temporary AND "
                                       "starts_with(table_name, ?)", [self.prefix]).fetchall():
            self.db.execute(f"DROP TABLE IF EXISTS {name}")
        for (name,) in self.db.execute("SELECT view_name FROM duckdb_views() WHERE temporary AND "
                                       "starts_with(view_name, ?)", [self.prefix]).fetchall():
            self.db.execute(f"DROP VIEW IF EXISTS {name}")

    # ----------------------------------------------------------------- building blocks
    def _pool_totals(self, subscriber: bool | None) -> str:
        where = {True: "WHERE user_id IS NOT NULL", False: "WHERE user_id IS NULL", None: ""}[subscriber]
        keys = "pool_id, complete, currency" + (", user_id" if subscriber else "")
        return f"SELECT {keys}, sum(amount_minor)::BIGINT AS pool_minor FROM {self.pools} {where} GROUP BY ALL"

    def _pro_rata_over(self, weights: str, subscriber: bool | None) -> tuple[str, str]:
        """(allocations, idle pools) SQL: pools split over ``weights`` (a table of pool_id, item, weight).

        A slice with a null key never joins its pool (as in the Ibis models): its money is held."""
        pool = self._pool_totals(subscriber)
        j = (f"SELECT w.pool_id, w.item, w.weight, p.currency, p.pool_minor "
             f"FROM {weights} w JOIN ({pool}) p ON w.pool_id = p.pool_id WHERE p.complete")
        alloc = f"SELECT pool_id, currency, item, amount_minor FROM ({allocate_sql(j, 'pool_id, currency', 'pool_minor', 'weight')})"
        idle = (f"SELECT pool_id, currency, pool_minor AS amount_minor, 'pool with no plays' AS reason "
                f"FROM ({pool}) p WHERE NOT p.complete OR NOT EXISTS "
                f"(SELECT 1 FROM {weights} w WHERE w.weight > 0 AND w.pool_id = p.pool_id)")
        return alloc, idle

    def _plays(self) -> str:
        return self._materialise(f"SELECT pool_id, item, plays AS weight FROM {self.played}")

    # ----------------------------------------------------------------- the models
    def pro_rata(self) -> tuple[str, str]:
        return self._pro_rata_over(self._plays(), None)

    def user_centric(self) -> tuple[str, str]:
        payers = self._materialise(f"""
            SELECT l.*, p.currency, p.pool_minor FROM (
                SELECT pool_id, user_id, positive_plays AS user_plays FROM {self.listeners()}
                WHERE positive_lines > 0) l
            JOIN ({self._pool_totals(True)}) p ON l.pool_id = p.pool_id AND l.user_id = p.user_id
            WHERE p.complete""")
        top, most = self.db.execute(f"SELECT max(pool_minor), max(user_plays) FROM {payers}").fetchone()
        top, most = int(top or 0), int(most or 0)
        digits = USER_SHARE_DIGITS
        while digits > 0 and top * 10 ** digits >= 2 ** 52:
            digits -= 1
        if top * 10 ** digits >= 2 ** 52:
            raise InvalidInput(Problem(f"a subscriber payment of {top} minor units is too large to split exactly",
                                       field="amount"))
        scale = 10 ** digits
        # Each line's share of its subscriber's payment, floored to 10^-k of a minor unit, summed per item;
        # in 64-bit integers when payment x plays x 10^k cannot pass 2^63 (a line's plays are at most its
        # listener's), else in 128-bit ones.
        kind = "BIGINT" if top * most * scale < 2 ** 63 else "HUGEINT"
        weights = self._materialise(f"""
            SELECT l.pool_id, y.currency, l.item, sum(y.pool_minor::{kind} * l.plays * {scale} // y.user_plays) AS weight
            FROM {self.lines} l JOIN {payers} y ON l.pool_id = y.pool_id AND l.user_id = y.user_id
            WHERE l.plays > 0 GROUP BY ALL""")
        paid = f"SELECT pool_id, currency, sum(pool_minor)::BIGINT AS pool_minor FROM {payers} GROUP BY ALL"
        j = (f"SELECT w.*, p.pool_minor FROM {weights} w JOIN ({paid}) p "
             f"ON w.pool_id = p.pool_id AND w.currency = p.currency")
        alloc = f"SELECT pool_id, currency, item, amount_minor FROM ({allocate_sql(j, 'pool_id, currency', 'pool_minor', 'weight')})"
        silent = (f"SELECT pool_id, currency, pool_minor AS amount_minor, 'subscriber with no plays' AS reason "
                  f"FROM ({self._pool_totals(True)}) p WHERE NOT EXISTS (SELECT 1 FROM {payers} y "
                  f"WHERE y.pool_id = p.pool_id AND y.user_id = p.user_id)")
        shared, idle = self._pro_rata_over(self._plays(), False)
        return f"{alloc} UNION ALL {shared}", f"{silent} UNION ALL {idle}"

    def artist_centric(self, params: ArtistCentric) -> tuple[str, str]:
        """Plays weighted by the rules of ``params``. A listener's plays beyond the cap are scaled down
        over the listener's rows (pool, item, use type, artist: the grain of the Ibis model, tie order
        included); every other line keeps its plays, so weights are summed per line (they are linear)."""
        p = params
        rows = f"SELECT pool_id, period_id, item, use_type, artist_h, plays FROM {self.lines}"
        if p.per_user_cap:
            cap = int(p.per_user_cap)
            over = self._materialise(f"""SELECT period_id, user_id FROM {self.listeners()}
                                         GROUP BY ALL HAVING sum(plays) > {cap}""")
            grain = self._materialise(f"""
                SELECT l.pool_id, any_value(l.period_id) AS period_id, l.item, l.user_id, l.use_type, a.artist_id,
                       any_value(l.artist_h) AS artist_h, sum(l.plays)::BIGINT AS plays, {cap}::BIGINT AS cap
                FROM (SELECT * FROM {self.lines} l SEMI JOIN {over} o
                      ON l.period_id = o.period_id AND l.user_id = o.user_id) l
                JOIN {self.artists} a ON l.artist_h = a.artist_h
                GROUP BY l.pool_id, l.item, l.user_id, l.use_type, a.artist_id""")
            ranked = f"SELECT g.*, k.tie_rank FROM {grain} g JOIN {self.keys} k ON g.pool_id = k.pool_id"
            ties = f"tie_rank, {ITEM_TIES}, coalesce(use_type, ''), artist_id"
            capped = (f"SELECT pool_id, period_id, item, use_type, artist_h, capped AS plays FROM "
                      f"({allocate_sql(ranked, 'period_id, user_id', 'cap', 'plays', ties, out='capped')})")
            kept = (f"SELECT pool_id, period_id, item, use_type, artist_h, plays FROM {self.lines} l "
                    f"ANTI JOIN {over} o ON l.period_id = o.period_id AND l.user_id = o.user_id")
            rows = f"{capped} UNION ALL {kept}"
        weight = "t.plays"
        joins = ""
        if p.min_artist_streams or p.min_artist_listeners or p.professional_weight != 1:
            having = (f"HAVING sum(plays) >= {int(p.min_artist_streams)} "
                      f"AND count(DISTINCT user_id) >= {int(p.min_artist_listeners)}")
            if self.folded:     # spellings of one artist counted together, by the key's id
                pros = self._materialise(f"""SELECT p.period_id, a.artist_h FROM (
                    SELECT l.period_id, a.artist_id FROM {self.lines} l JOIN {self.artists} a
                    ON l.artist_h = a.artist_h GROUP BY ALL {having}) p
                    JOIN {self.artists} a ON p.artist_id = a.artist_id""")
            else:
                pros = self._materialise(f"SELECT period_id, artist_h FROM {self.lines} GROUP BY ALL {having}")
            joins += f" LEFT JOIN {pros} pro ON t.period_id = pro.period_id AND t.artist_h = pro.artist_h"
            weight += f" * CASE WHEN pro.artist_h IS NOT NULL THEN {int(p.professional_weight)} ELSE 1 END"
        if p.user_initiated_weight != 1:
            chosen = ", ".join("'" + u.replace("'", "''") + "'" for u in p.user_initiated_use_types) or "NULL"
            weight += f" * CASE WHEN t.use_type IN ({chosen}) THEN {int(p.user_initiated_weight)} ELSE 1 END"
        weighted = f"({weight})::BIGINT"
        if p.min_item_streams:
            streams = (f"SELECT item, sum(plays) AS item_streams FROM {self.played} WHERE item IS NOT NULL "
                       "GROUP BY ALL")
            joins += f" LEFT JOIN ({streams}) its ON t.item = its.item"
            weighted = (f"CASE WHEN t.item IS NULL OR coalesce(its.item_streams, 0) >= {int(p.min_item_streams)} "
                        f"THEN {weighted} ELSE 0 END")
        weights = self._materialise(f"SELECT t.pool_id, t.item, sum({weighted})::BIGINT AS weight "
                                    f"FROM ({rows}) t {joins} GROUP BY ALL")
        return self._pro_rata_over(weights, None)

    # ----------------------------------------------------------------- a run
    def distribute(self, model: str = "pro-rata", params: Any = None) -> Distribution:
        """A model's allocations (per pool, currency and matched item, with plays and usage lines) and the
        money held, as a :class:`~obra.royalties.distribution.Distribution` over temporary tables;
        money conservation is checked per currency before it returns."""
        if model == "pro-rata":
            alloc, held = self.pro_rata()
            shown: dict = {}
        elif model == "user-centric":
            alloc, held = self.user_centric()
            shown = {}
        elif model == "artist-centric":
            p = artist_params(params)
            alloc, held = self.artist_centric(p)
            shown = asdict(p)
            shown["user_initiated_use_types"] = list(shown["user_initiated_use_types"])
        else:
            raise InvalidInput(Problem(f"unknown distribution model '{model}'; known: artist-centric, pro-rata, "
                                       "user-centric", field="model"))
        Stage._count += 1
        name = f"{self.prefix}_{Stage._count}"
        everything = self._materialise(f"SELECT pool_id, currency, item, sum(amount_minor)::BIGINT AS amount_minor "
                                       f"FROM ({alloc}) GROUP BY ALL")
        keys = ", ".join(f"k.{c}" for c in POOL_KEYS)
        self.db.execute(f"""CREATE OR REPLACE TEMP TABLE {name}_alloc AS
            SELECT {keys}, a.currency, a.item, a.amount_minor,
                   coalesce(p.plays, 0)::BIGINT AS plays, coalesce(p.usage_lines, 0)::BIGINT AS usage_lines
            FROM {everything} a JOIN {self.keys} k ON a.pool_id = k.pool_id
            LEFT JOIN {self.played} p ON a.pool_id = p.pool_id AND a.item = p.item
            WHERE a.item IS NOT NULL""")
        self.db.execute(f"""CREATE OR REPLACE TEMP TABLE {name}_held AS
            SELECT {keys}, h.currency, h.amount_minor::BIGINT AS amount_minor, h.reason FROM (
                {held}
                UNION ALL SELECT pool_id, currency, amount_minor, 'unmatched usage (held for claims)' AS reason
                FROM {everything} WHERE item IS NULL) h JOIN {self.keys} k ON h.pool_id = k.pool_id""")
        self.db.execute(f"DROP TABLE {everything}")
        conservation = self._check(name, model)
        return Distribution(model, shown, "recording", self.table(f"{name}_alloc"), self.table(f"{name}_held"),
                            self.table(self.lines), conservation)

    def _check(self, name: str, model: str) -> dict:
        rows = self.db.execute(f"""
            SELECT currency, sum(r)::HUGEINT, sum(a)::HUGEINT, sum(h)::HUGEINT FROM (
              SELECT currency, amount_minor AS r, 0 AS a, 0 AS h FROM {self.pools}
              UNION ALL SELECT currency, 0, amount_minor, 0 FROM {name}_alloc
              UNION ALL SELECT currency, 0, 0, amount_minor FROM {name}_held) GROUP BY currency""").fetchall()
        return {cur: assert_conserved(int(r or 0), int(a or 0), int(h or 0), context=f"{model} distribution in {cur}")
                for cur, r, a, h in rows}
