"""Content identification: ISO 24138 ISCC codes for files and exact near-duplicate search.

``identify_file`` computes the codes of a file; ``parse_code`` reads a code someone gives
us; ``ContentIndex`` stores registered codes and finds those within a Hamming radius;
``near_duplicates`` does the same for two large batches of 64-bit codes at once.
"""

from obra.identify.iscc import ContentCodes, Unit, identify_file, parse_code

__all__ = ["ContentCodes", "Unit", "identify_file", "parse_code"]
