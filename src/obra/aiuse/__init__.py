"""AI use: rightholders' terms for AI training, input and mining, read from and written to every
standard in use (AIPREF, Content Signals, TDMRep, RSL, robots.txt, CAWG/C2PA), and the
dataset-scale training check.

The one internal vocabulary is :mod:`obra.aiuse.vocabulary`; each standard's reader and writer
lives in :mod:`obra.aiuse.signals` and maps its own tokens into it, keeping the token verbatim.
"""
