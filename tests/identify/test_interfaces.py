"""`obra identify`, `obra similar` and the /identify, /similar routes, on real files and stores."""

from __future__ import annotations

import json

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from typer.testing import CliRunner

from obra.api.app import create_app
from obra.cli.main import app
from obra.identify import identify_file
from obra.identify.similar import ContentIndex

runner = CliRunner()


def painting(path, seed=21):
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, (6, 9, 3), dtype=np.uint8)).resize((90, 60), Image.BILINEAR).save(path)
    return path


def test_cli_identify_and_similar_find_a_registered_copy(cli_home, tmp_path):
    original = painting(tmp_path / "cuadro.png")
    result = runner.invoke(app, ["identify", str(original), "--json"])
    assert result.exit_code == 0, result.output
    codes = json.loads(result.stdout)
    assert codes["mode"] == "image" and codes["iscc"].startswith("ISCC:")

    from obra.cli.common import open_store

    store = open_store()
    with store.begin() as conn:
        ContentIndex(store).add(conn, "UY-W-2026-000042", 1, identify_file(original))
    Image.open(original).resize((180, 120)).convert("RGB").save(tmp_path / "copia.jpg", quality=90)
    result = runner.invoke(app, ["similar", str(tmp_path / "copia.jpg"), "--json"])
    assert result.exit_code == 0, result.output
    matches = json.loads(result.stdout)["matches"]
    assert ("UY-W-2026-000042", "content-image") in {(m["number"], m["unit"]) for m in matches}
    by_code = json.loads(runner.invoke(app, ["similar", codes["content"], "--radius", "0", "--json"]).stdout)
    assert [m["number"] for m in by_code["matches"]] == ["UY-W-2026-000042"]


def test_cli_refuses_a_corrupt_file_and_a_bad_code_with_exit_2(cli_home, tmp_path):
    bad = tmp_path / "roto.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 50)
    result = runner.invoke(app, ["identify", str(bad)])
    assert result.exit_code == 2 and "roto.png" in result.output
    result = runner.invoke(app, ["similar", "ISCC:ZZZZ"])
    assert result.exit_code == 2 and "not a valid ISCC code" in result.output
    result = runner.invoke(app, ["similar", str(tmp_path / "missing.png")])
    assert result.exit_code == 2 and "no such file" in result.output
    result = runner.invoke(app, ["similar", "EEA2EF72Y3H5RCUQ", "--radius", "40"])
    assert result.exit_code == 2 and "radius" in result.output


@pytest.fixture
def client(store):
    return TestClient(create_app(store))


def test_api_identify_then_similar(client, store, tmp_path):
    path = painting(tmp_path / "obra.png", seed=4)
    response = client.post("/identify", files={"file": ("obra.png", path.read_bytes(), "image/png")})
    assert response.status_code == 200, response.text
    codes = response.json()
    assert codes["filename"] == "obra.png" and codes["content"].startswith("ISCC:EEA")
    with store.begin() as conn:
        ContentIndex(store).add(conn, "UY-W-2026-000007", 1, identify_file(path))
    found = client.get("/similar", params={"code": codes["iscc"], "radius": 8}).json()
    assert {m["number"] for m in found["matches"]} == {"UY-W-2026-000007"}
    posted = client.post("/similar", files={"file": ("x.png", path.read_bytes(), "image/png")}, data={"radius": "4"})
    assert posted.status_code == 200
    assert {m["unit"] for m in posted.json()["matches"]} >= {"content-image", "data", "instance"}


def test_api_refuses_bad_input_clearly(client, monkeypatch, tmp_path):
    bad = client.post("/identify", files={"file": ("song.mp3", b"ID3" + b"\x00" * 20, "audio/mpeg")})
    assert bad.status_code == 422
    assert bad.json()["problems"][0]["source"] == "song.mp3"
    assert client.get("/similar", params={"code": "nope"}).status_code == 422
    assert client.get("/similar", params={"code": "EEA2EF72Y3H5RCUQ", "radius": 99}).status_code == 422
    import obra.api.uploads as uploads

    monkeypatch.setattr(uploads, "MAX_UPLOAD", 1000)
    big = client.post("/identify", files={"file": ("big.txt", b"a" * 5000, "text/plain")})
    assert big.status_code == 413 and "upload limit" in big.json()["message"]


def test_api_upload_names_cannot_escape_the_temporary_directory(client):
    text = b"Versos sencillos de un hombre sincero. " * 5
    for name, kept in (("../../evil.txt", "evil.txt"), ("..", "upload.txt"), ("/etc/passwd.txt", "passwd.txt")):
        response = client.post("/identify", files={"file": (name, text, "text/plain")})
        assert response.status_code == 200, response.text
        assert response.json()["filename"] == kept
