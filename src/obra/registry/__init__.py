"""The registry: parties, works, recordings, shares and agreements, registered with their AI disclosure.

``service`` is the registration workflow (submit → validate → number → public record;
corrections append versions), ``batch`` imports JSON/CSV batches all or nothing,
``parties`` and ``chains`` resolve who is paid through which agreements, ``certificates``
issues and verifies the signed certificates anyone can check offline, and ``federation``
imports other offices' logs so their numbers verify here. Every registration event is a
leaf of the transparency log (:mod:`obra.transparency`) through the journal.
"""
