"""Synthetic data for demonstrations and benchmarks: seeded generators, and the demo job.

Kept out of the product package (``obra``): nothing in ``obra`` imports this package, except
the ``obra demo`` command, lazily, when it runs. Every generator is seeded: the same seed
gives the same data, so demo results and benchmark figures are reproducible.

* :mod:`.catalogue` — a realistic catalogue (parties, works, recordings, agreements) in
  several languages and territories, importable with :func:`obra.registry.batch.import_records`;
* :mod:`.reports` — a month of streaming for that catalogue, as the usage and pools CSV files
  a service would send;
* :mod:`.streaming` — usage, pools and matches at benchmark scale (millions of lines), written
  straight into the Parquet datasets, with the repertoire they refer to;
* :mod:`.noisy` — labelled pairs of track descriptions with realistic metadata noise, for the
  matching benchmark;
* :mod:`.run` — :func:`~.run.run_demo`, the demo job end to end.
"""
