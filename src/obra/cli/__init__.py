"""The ``obra`` command line: a thin shell that translates arguments into core calls."""
