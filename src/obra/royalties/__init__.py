"""Royalties: usage reports in, money out to every payee, with the reason for each amount.

The stages, in order, and where each lives. Each stage hands the next the records declared
once in :mod:`obra.royalties.records` (usage line, pool, match, allocation), the one data
contract between them:

1. **Read** — :mod:`obra.royalties.formats`: DDEX DSR flat files (``dsr_spec``, what the
   specification says; ``dsr_reference``, the row-by-row checker that is the definition of a
   valid file; ``dsr_fast``, the vectorised reader ingest uses), Obra's usage and pools CSV
   (``usage_csv``) and CISAC CWR repertoire (``cwr``), all opened by ``text``. A file is
   parsed once, at the edge, and refused whole with every problem located by file, line and
   field.
2. **Ingest** — :mod:`obra.royalties.ingest`: a valid file's records written to the Parquet
   datasets, all or nothing and once per file (a CWR file's works and parties go to the
   registry instead); :mod:`obra.royalties.datasets` is where the datasets live and how
   their partitions are read and replaced.
3. **Match** — :mod:`obra.royalties.matching`: each usage line linked to a registered
   recording or work, by identifier (``identifiers``), then by the scored metadata model
   (``metadata``), then by the rightholders' claims (``claims``); ``run`` is a matching run
   over the datasets.
4. **Distribute** — :mod:`obra.royalties.distribution`: each pool shared over the matched
   plays under a model (pro-rata, user-centric, artist-centric with published presets),
   written once as Ibis expressions and run on DuckDB or Spark (:mod:`obra.royalties.engine`);
   every run checks that distributed + unallocated = revenue to the minor unit.
5. **Split over payees** — :mod:`obra.royalties.waterfall`: each item's money through CMO
   commission, statutory remuneration (its rule pack reads ``rules/``) and the registered
   shares and agreement chains, then recoupment of advances and minimum guarantees.
6. **Statements** — :mod:`obra.royalties.statements`: one document per payee with the
   reason for every amount (JSON, CSV, HTML, PDF), and the bulk export of whole runs.

Beside the main line: :mod:`obra.royalties.incoming` splits money already reported per work
(a society's or sub-publisher's statement) over the catalogue with the same waterfall and
statements; :mod:`obra.royalties.comparison` shows who gains and who loses between two models.

:mod:`obra.royalties.pipeline` is where the interfaces come in: the jobs (ingest, match, run
a period, split a statement, compare models, read a statement) and the one module that brings
the store, the engines and the access rules together. Synthetic data for demos and
benchmarks lives outside the product, in the ``obra_demo`` package.
"""
