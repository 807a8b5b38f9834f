"""Evidence packages for enforcement: what a rightholder sends an AI developer, or a court, after a check.

A training check (:mod:`obra.aiuse.check`) found that items of a developer's dataset match a
registered work. The evidence package puts together, for that work and that developer or
dataset, everything the rightholder needs to act, each piece checkable by the reader without
Obra:

* the **matched items** and how each matched (exact SHA-256, ISCC Instance-Code, ISCC
  Content-Code near duplicate with its Hamming distance), from the check's per-item results,
  whose hash the check's **signed receipt** records (:mod:`~obra.aiuse.evidence.results`);
* the **reservation in force at each crawl date** (the terms version stated before the crawl,
  :meth:`obra.aiuse.service.AITermsService.in_force`) with its ``aiuse.terms.set`` journal event
  and **inclusion proof** in the office's transparency log;
* the **licence status** (the check's ``licensed`` decision);
* the **legal basis** in each jurisdiction concerned — the rightholder's, the developer's, where
  the training took place — from :mod:`obra.law` (the TDM rule, its citations and confidence),
  with the decision the check would make there (:mod:`~obra.aiuse.evidence.basis`);
* all of it as one **signed bundle** (RFC 8785 canonical JSON, the office's Ed25519 key) that
  verifies offline and fails when altered (:mod:`~obra.aiuse.evidence.bundle`), and a **letter**
  in English, Spanish, French and Portuguese (:mod:`~obra.aiuse.evidence.letter`).

Each bundle (and the letters made with it) is an ``aiuse.evidence`` journal event.
"""
