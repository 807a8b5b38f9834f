"""Registering with the work's file: codes in the logged record and certificate; prior work warned."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from typer.testing import CliRunner

from obra.api.app import create_app
from obra.cli.main import app
from obra.errors import InvalidInput
from obra.identify.registration import correct_with_file, register_with_file
from obra.registry.certificates import certificate_bytes, certificate_for, verify_certificate
from obra.registry.service import Registry
from obra.transparency.translog import TransparencyLog

from .test_interfaces import painting

runner = CliRunner()


def _copy_of(original, target):
    Image.open(original).resize((180, 120), Image.BICUBIC).convert("RGB").save(target, quality=85)
    return target


def test_a_resized_copy_is_flagged_as_possible_prior_work(store, admin, tmp_path):
    registry = Registry(store)
    first = register_with_file(registry, admin, "work", {"title": "Atardecer", "kind": "visual"},
                               painting(tmp_path / "atardecer.png"))
    assert first.warnings == ()
    assert first.record["content"]["iscc"].startswith("ISCC:")
    copy = register_with_file(registry, admin, "work", {"title": "Sunset (copy)", "kind": "visual"},
                              _copy_of(tmp_path / "atardecer.png", tmp_path / "sunset.jpg"))
    assert {w["number"] for w in copy.warnings} == {first.number}
    assert all(w["distance"] <= 8 and w["unit"] != "meta" for w in copy.warnings)
    unrelated = register_with_file(registry, admin, "work", {"title": "Otro", "kind": "visual"},
                                   painting(tmp_path / "otro.png", seed=5))
    assert unrelated.warnings == ()


def test_the_certificate_carries_the_content_codes_and_verifies(store, admin, tmp_path):
    record = register_with_file(Registry(store), admin, "work", {"title": "Mural", "kind": "visual"},
                                painting(tmp_path / "mural.png"))
    cert = certificate_for(store, record.number)
    assert cert["content_codes"][0]["iscc"] == record.record["content"]["iscc"]
    verified = verify_certificate(certificate_bytes(cert), TransparencyLog(store).key_history())
    assert verified.record["content"]["datahash"] == record.record["content"]["datahash"]


def test_a_corrupt_file_writes_nothing(store, admin, tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(painting(tmp_path / "ok.png").read_bytes()[:60])
    before = TransparencyLog(store).size()  # the admin's journal event
    with pytest.raises(InvalidInput):
        register_with_file(Registry(store), admin, "work", {"title": "Roto"}, bad)
    assert Registry(store).counts().get("works", 0) == 0
    assert TransparencyLog(store).size() == before


def test_a_correction_with_a_new_file_gets_new_codes(store, admin, tmp_path):
    registry = Registry(store)
    first = register_with_file(registry, admin, "work", {"title": "Boceto", "kind": "visual"},
                               painting(tmp_path / "v1.png"))
    second = correct_with_file(registry, admin, first.number, {"title": "Boceto", "kind": "visual"},
                               "final version of the image", painting(tmp_path / "v2.png", seed=77))
    assert second.version == 2
    assert second.record["content"]["iscc"] != first.record["content"]["iscc"]
    plain = registry.correct(admin, first.number, {"title": "Boceto final", "kind": "visual"}, "title")
    assert plain.record["content"] == second.record["content"]


def test_cli_register_with_content_shows_prior_work(cli_home, tmp_path):
    original = painting(tmp_path / "a.png")
    first = runner.invoke(app, ["register", "--title", "A", "--kind", "visual", "--content", str(original), "--json"])
    assert first.exit_code == 0, first.output
    number = json.loads(first.stdout)["number"]
    second = runner.invoke(app, ["register", "--title", "B", "--kind", "visual", "--content",
                                 str(_copy_of(original, tmp_path / "b.jpg"))])
    assert second.exit_code == 0, second.output
    assert "possible prior work" in second.stdout and number in second.stdout


def test_api_register_with_content_needs_a_principal(store, principals, tmp_path):
    client = TestClient(create_app(store))
    image = painting(tmp_path / "api.png").read_bytes()
    files = {"file": ("api.png", image, "image/png")}
    form = {"record": json.dumps({"title": "Por API", "kind": "visual"})}
    assert client.post("/registrations/with-content", data=form, files=files).status_code == 401
    token = principals["registrant"][1]
    created = client.post("/registrations/with-content", data=form, files=files,
                          headers={"Authorization": f"Bearer {token}"})
    assert created.status_code == 201, created.text
    assert created.json()["record"]["content"]["filename"] == "api.png"
