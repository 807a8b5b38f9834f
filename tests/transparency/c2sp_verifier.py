# c2sp_verifier.py: verify a transparency-log checkpoint with one verifier key (hashlib + cryptography)
"""Verify a C2SP checkpoint against a verifier key, written from the specifications alone.

* c2sp.org/signed-note, "Format": text ending in a newline, a blank line, then lines of
  em dash U+2014, space, key name, space, base64(4-byte key ID || signature), newline. The
  text is split from the signatures at the last blank line. No control characters but newline.
* c2sp.org/signed-note, "Signatures": signatures by unknown keys are ignored; a known key's
  signature must verify; without one the note is rejected.
* c2sp.org/signed-note, "Ed25519 signatures": key ID = SHA-256(name || 0x0A || 0x01 || key)[:4].
* Verifier keys: <name>+<8 hex digits key ID>+<base64(0x01 || 32-byte key)> (golang.org/x/mod/sumdb/note).
* c2sp.org/tlog-checkpoint, "Note text": origin, decimal tree size without leading zeros,
  base64 RFC 6962 root hash, optional non-empty extension lines.
* Base64 is RFC 4648 section 4 (standard, padded); non-canonical encodings are refused (section 3.5).
"""
import base64
import hashlib
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def unbase64(text):
    raw = base64.b64decode(text, validate=True)
    if base64.b64encode(raw).decode() != text:
        raise ValueError(f"not canonical base64: {text!r}")
    return raw


def open_note(note, vkey):
    """The note's text if the key `vkey` signed it; raises ValueError or InvalidSignature."""
    name, key_id_hex, key_b64 = vkey.strip().split("+", 2)
    key = unbase64(key_b64)
    key_id = hashlib.sha256(name.encode() + b"\n" + key).digest()[:4]
    if len(key) != 33 or key[0] != 0x01 or key_id.hex() != key_id_hex.lower():
        raise ValueError("not an Ed25519 verifier key, or its key ID does not match")
    if isinstance(note, bytes):
        note = note.decode("utf-8")
    if any(c < " " and c != "\n" for c in note):
        raise ValueError("the note contains a control character")
    text, blank, signatures = note.rpartition("\n\n")
    text += "\n"
    if not blank or not signatures.endswith("\n"):
        raise ValueError("no blank line followed by signature lines")
    verified = False
    for line in signatures[:-1].split("\n"):
        dash, signer, signature_b64 = line.split(" ")
        signature = unbase64(signature_b64)
        if dash != "\u2014" or not signer or "+" in signer or len(signature) < 5:
            raise ValueError(f"malformed signature line {line!r}")
        if signer == name and signature[:4] == key_id:
            Ed25519PublicKey.from_public_bytes(key[1:]).verify(signature[4:], text.encode())
            verified = True
    if not verified:
        raise ValueError(f"no signature by {name}+{key_id_hex}")
    return text


def verify_checkpoint(note, vkey):
    """(origin, tree size, root hash) of a checkpoint signed by `vkey`."""
    lines = open_note(note, vkey)[:-1].split("\n")
    if len(lines) < 3 or "" in lines:
        raise ValueError("a checkpoint has at least three non-empty lines")
    origin, size, root = lines[:3]
    if not (size.isascii() and size.isdigit()) or (size != "0" and size.startswith("0")):
        raise ValueError(f"tree size {size!r} is not a decimal number")
    root_hash = unbase64(root)
    if len(root_hash) != 32:
        raise ValueError("the root hash is not 32 bytes")
    return origin, int(size), root_hash


if __name__ == "__main__":  # python c2sp_verifier.py checkpoint.txt 'name+keyid+key'
    with open(sys.argv[1], "rb") as file:
        origin, size, root = verify_checkpoint(file.read(), sys.argv[2])
    print(f"valid: {origin} size {size} root {base64.b64encode(root).decode()}")
