"""The transparency log: an RFC 9162 Merkle tree of every event Obra records, with signed tree heads.

Core, not a capability: registrations (``obra.registry``) and every other journal event
(``obra.journal``) are leaves of the same per-office log. ``merkle`` is the tree and its
proofs, ``signing`` the office's Ed25519 keys and their history, ``translog`` the log in the
store.
"""
