"""The dataset-scale training check: "may I train on this?" for every item of a crawl manifest.

An AI developer gives a manifest of what it crawled (one item per row: URL, hashes, ISCC code,
the HTTP headers captured, when) and what it captured of each site (robots.txt, tdmrep.json,
RSL licences). For a question — a use (default generative training), a jurisdiction, a purpose,
commercial or not, a crawler user agent — the check answers for every item ``allowed``,
``reserved``, ``licence-required``, ``licensed`` or ``unknown``, with the reasons (each signal
read by its own standard's reader, the registry's terms of the matched registration), the
conflicts between signals and the rule that decided, and one signed receipt for the run.

Modules, in the order the data flows: :mod:`.manifest` (read and validate the manifest),
:mod:`.sites` (the site captures), :mod:`.signals` (each distinct header value and site read once),
:mod:`.registry` (items matched to registrations), :mod:`.decide` (the decision), :mod:`.engine`
(the relational steps on DuckDB or Spark), :mod:`.receipt` (the signed receipt) and
:mod:`.service` (:class:`~obra.aiuse.check.service.CheckService`, what the CLI and API call).
"""
