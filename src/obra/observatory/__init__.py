"""The observatory: royalty flows and AI licensing measured from the stored runs, and payment-model scenarios.

* :mod:`obra.observatory.market` — a period's data from the store (DuckDB or Spark), fingerprinted;
* :mod:`obra.observatory.indicators` — revenue, rates, value split, concentration, unmatched money, creation modes;
* :mod:`obra.observatory.inequality` — Gini, Theil (with its within/between split), top shares, Lorenz curves;
* :mod:`obra.observatory.scenarios` — rules compared with a baseline (models, thresholds, caps, floors);
* :mod:`obra.observatory.report` / :mod:`obra.observatory.render` — the report, its tables and its signed manifest;
* :mod:`obra.observatory.service` — what the application object calls (access, journal).

It sits above :mod:`obra.fairness` and the other capabilities and below :mod:`obra.app` (import-linter).
"""
