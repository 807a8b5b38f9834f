"""A crawl manifest names files by SHA-256: the registry records each registered file's SHA-256,
so the training check finds the registration by it (the ISCC datahash is BLAKE3, not SHA-256)."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from obra.access import create_principal
from obra.aiuse.check.registry import RegistryIndex
from obra.aiuse.check.service import CheckService
from obra.aiuse.service import AITermsService
from obra.identify.registration import register_with_file
from obra.identify.similar import content_files
from obra.model.vocab import AccessRole
from obra.registry.service import Registry
from tests.identify.test_interfaces import painting


def test_an_item_is_matched_by_the_sha256_of_the_registered_file(store, tmp_path):
    root, _ = create_principal(store, "root", AccessRole.ADMIN)
    developer, _ = create_principal(store, "dev", AccessRole.AI_DEVELOPER, by=root)
    registry = Registry(store)
    image = painting(tmp_path / "mural.png")
    digest = hashlib.sha256(image.read_bytes()).hexdigest()
    record = register_with_file(registry, root, "work", {"title": "Mural"}, image)
    with store.connect() as conn:
        assert conn.execute(select(content_files.c.sha256)).scalar() == digest
    assert (record.number, digest) in {tuple(r.values()) for r in RegistryIndex.from_store(store).hashes.to_pylist()}
    AITermsService(store).set_terms(root, {"subject_kind": "work", "subject": record.number,
                                           "uses": [{"use": "ai-train-generative", "permission": "not-allowed"}]})
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(f"url,sha256\nhttps://example.org/mural.png,{digest.upper()}\n"
                        f"https://example.org/other.png,{hashlib.sha256(b'other').hexdigest()}\n")
    done = CheckService(store).check(developer, manifest, None, jurisdiction="DE", purpose="commercial",
                                     out_dir=tmp_path / "out", inline=10)
    first, second = done["items"]
    assert [(m["number"], m["how"]) for m in first["registry"]["matches"]] == [(record.number, "sha256")]
    assert first["decision"] == "reserved" and first["registry"]["permission"] == "not-allowed"
    assert second["registry"]["matches"] == [] and second["decision"] == "allowed"
