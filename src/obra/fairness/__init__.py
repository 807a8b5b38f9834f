"""Fairness: what a creator is owed under contract law, read from what Obra already recorded.

National laws give creators rights that need figures: a contract adjusted when the pay turns
out disproportionately low (DSM Directive Art. 20, UrhG § 32a, CPI L131-5, Auteurswet 25d),
rights revoked when they are not exploited (Art. 22, UrhG § 41), a yearly report of what their
work earned and what they are due (Art. 19, UrhG § 32d, CPI L131-5-1, the UK code), and floors
on their pay. Obra's distribution runs already hold every cent, per work, licensee, territory
and agreement; this package turns them into that evidence:

* :mod:`obra.fairness.runs` — the stored runs (statement lines, advance balances), read, never
  recomputed;
* :mod:`obra.fairness.terms` — what an agreement's record does not say and a check needs (the
  governing law, a lump sum, the appropriate share of revenue);
* :mod:`obra.fairness.renegotiation` — the triggers per agreement, licensee and right, in one
  DuckDB pass, with each flag's evidence, citation and limitation timeline;
* :mod:`obra.fairness.transparency_report` — the yearly report per creator and transferee,
  signed (RFC 8785 + the office key), verifiable offline;
* :mod:`obra.fairness.letters` — the letters (adjustment request, information request,
  grace-period notice) and the report as documents in four languages (:mod:`obra.render`);
* :mod:`obra.fairness.service` — the one entry the CLI and the API call: access, journal, files.

Thresholds, periods and floors come from :mod:`obra.law.fairness`, never from this code. The
floors themselves are applied by the royalty waterfall (:mod:`obra.royalties.waterfall`).
"""
