"""The standalone verifier printed in docs/verify-a-certificate.md really verifies certificates."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from obra.registry.certificates import certificate_bytes, issue_certificate
from obra.transparency.signing import canonical

DOC = Path(__file__).resolve().parents[2] / "docs" / "verify-a-certificate.md"


@pytest.fixture
def verifier(tmp_path) -> Path:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    [code] = [b for b in blocks if b.startswith("# verify_obra_certificate.py")]
    imports = {m for line in code.splitlines() for m in re.findall(r"^(?:import|from) ([\w.]+)", line)}
    assert not any(name.startswith("obra") or name == "jcs" for name in imports)
    path = tmp_path / "verify_obra_certificate.py"
    path.write_text(code)
    return path


def _run(verifier: Path, cert: bytes, keys: str, tmp_path: Path) -> subprocess.CompletedProcess:
    (tmp_path / "cert.json").write_bytes(cert)
    (tmp_path / "keys.json").write_text(keys)
    return subprocess.run([sys.executable, str(verifier), str(tmp_path / "cert.json"), str(tmp_path / "keys.json")],
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_the_documented_verifier_accepts_a_real_certificate(store, registry, admin, log, verifier, tmp_path):
    record = registry.register(admin, "work", {"title": "Adiós Nonino — 平和", "language": "es"})
    registry.register(admin, "work", {"title": "Oblivion"})
    cert = certificate_bytes(issue_certificate(log, registry.show(record.number).record))
    log.keys.rotate()  # the certificate's key is now retired: still valid
    result = _run(verifier, cert, log.key_history().to_json(), tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"valid: {record.number} version 1")

    altered = json.loads(cert)
    altered["record"]["registrant"] = "mallory"
    result = _run(verifier, canonical(altered), log.key_history().to_json(), tmp_path)
    assert result.returncode != 0 and "InvalidSignature" in result.stderr

    moved = json.loads(cert)
    moved["log_entry"]["index"] += 1
    assert _run(verifier, canonical(moved), log.key_history().to_json(), tmp_path).returncode != 0
