"""Readers and writers of the AI-use signals, one module per standard.

Each reader follows its specification's own rules (what counts, what is *unknown*, which
statement wins) and returns :class:`obra.aiuse.vocabulary.Signal` values in Obra's vocabulary,
each with the standard's token verbatim and how it was read. Combining signals *across*
standards is not done here: every standard has its own precedence, and the training check
reports each signal with the rule that decided.
"""
