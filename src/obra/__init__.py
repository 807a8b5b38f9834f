"""Obra: open infrastructure for the rights of authors and performers.

The package is layered: a small shared core (``ids``, ``money``, ``model``, ``store``,
``errors``, ``access``) under one package per capability (``registry``, ``identify``,
``royalties`` ...) and thin interfaces (``cli``, ``api``) that only translate requests.
The core never imports an interface.
"""

__version__ = "0.1.0"
