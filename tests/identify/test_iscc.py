"""Content codes for real media made in the test: an image, a text, audio and video."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from obra.errors import InvalidInput
from obra.identify import identify_file, parse_code
from obra.identify.iscc import unit_of
from obra.identify.tools import fpcalc_output_complete

needs_media_tools = pytest.mark.skipif(
    not (shutil.which("ffmpeg") and shutil.which("fpcalc")),
    reason="ffmpeg and fpcalc (Debian: ffmpeg libchromaprint-tools) are installed by make system-deps",
)


def hamming(a: str, b: str) -> int:
    return (unit_of(a).body ^ unit_of(b).body).bit_count()


def photo(path: Path, seed: int = 7, size=(96, 64)) -> Path:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, (8, 12, 3), dtype=np.uint8)
    img = Image.fromarray(base).resize(size, Image.BILINEAR)
    img.save(path)
    return path


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def test_image_codes_and_a_resized_copy_is_a_near_duplicate(tmp_path):
    original = identify_file(photo(tmp_path / "painting.png"))
    assert original.mode == "image" and original.mediatype == "image/png"
    assert unit_of(original.content).kind == "content-image"
    assert [u.kind for u in original.units()] == ["meta", "content-image", "data", "instance"]
    assert parse_code(original.iscc) == original.units()
    big = Image.open(tmp_path / "painting.png").resize((192, 128), Image.BICUBIC)
    big.convert("RGB").save(tmp_path / "copy.jpg", quality=85)
    copy = identify_file(tmp_path / "copy.jpg")
    assert copy.instance != original.instance
    assert hamming(copy.content, original.content) <= 8
    other = identify_file(photo(tmp_path / "other.png", seed=99))
    assert hamming(other.content, original.content) > 8


def test_same_bytes_give_the_same_codes_and_the_instance_code_tracks_bytes(tmp_path):
    a = identify_file(photo(tmp_path / "a.png"))
    shutil.copy(tmp_path / "a.png", tmp_path / "b.png")
    b = identify_file(tmp_path / "b.png")
    assert (a.content, a.data, a.instance, a.datahash) == (b.content, b.data, b.instance, b.datahash)
    assert a.filesize == (tmp_path / "a.png").stat().st_size


def test_text_codes_use_the_title_given(tmp_path):
    poem = tmp_path / "poema.txt"
    poem.write_text("Caminante, no hay camino, se hace camino al andar.\n" * 30, encoding="utf-8")
    codes = identify_file(poem, name="Cantares")
    assert codes.mode == "text" and unit_of(codes.content).kind == "content-text"
    assert codes.name == "Cantares"
    assert codes.meta != identify_file(poem).meta


@needs_media_tools
def test_audio_codes_from_a_generated_wav(tmp_path):
    wav = tmp_path / "tone.wav"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=6", "-f", "lavfi",
           "-i", "anoisesrc=d=6:c=pink:a=0.2:seed=3", "-filter_complex", "amix=inputs=2", "-ac", "1", str(wav))
    codes = identify_file(wav)
    assert codes.mode == "audio" and unit_of(codes.content).kind == "content-audio"
    flac = tmp_path / "tone.flac"
    ffmpeg("-i", str(wav), str(flac))
    assert hamming(identify_file(flac).content, codes.content) <= 8


@needs_media_tools
def test_video_codes_from_a_generated_clip(tmp_path):
    clip = tmp_path / "clip.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=duration=2:size=128x96:rate=10", "-pix_fmt", "yuv420p", str(clip))
    codes = identify_file(clip)
    assert codes.mode == "video" and unit_of(codes.content).kind == "content-video"


@needs_media_tools
def test_truncated_audio_is_refused_with_the_reason(tmp_path):
    wav = tmp_path / "cut.wav"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=3", str(wav))
    wav.write_bytes(wav.read_bytes()[:2000])
    with pytest.raises(InvalidInput) as err:
        identify_file(wav)
    assert "cut.wav" in str(err.value) and "Empty fingerprint" in str(err.value)


def test_truncated_image_is_refused_naming_the_file(tmp_path):
    img = photo(tmp_path / "torn.png", size=(300, 200))
    img.write_bytes(img.read_bytes()[:400])
    with pytest.raises(InvalidInput) as err:
        identify_file(img)
    assert "torn.png" in str(err.value)
    assert "truncated" in str(err.value) or "corrupt" in str(err.value)


def test_garbage_with_an_image_name_is_refused(tmp_path):
    fake = tmp_path / "fake.jpg"
    fake.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4)
    with pytest.raises(InvalidInput, match="fake.jpg"):
        identify_file(fake)


def test_unsupported_and_empty_and_missing_files(tmp_path):
    blob = tmp_path / "model.bin"
    blob.write_bytes(bytes(np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8)))
    with pytest.raises(InvalidInput, match="unsupported media type"):
        identify_file(blob)
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(InvalidInput, match="empty"):
        identify_file(empty)
    with pytest.raises(InvalidInput, match="no such file"):
        identify_file(tmp_path / "nothing.png")


@pytest.mark.parametrize("bad", ["", "ISCC:", "ISCC:KAC!!", "hello", "ISCC:AAAZXZ6OU74YAZ"])
def test_bad_codes_are_refused_with_a_reason(bad):
    with pytest.raises(InvalidInput):
        parse_code(bad)


def test_parse_code_accepts_lower_case_and_no_prefix():
    code = "ISCC:KACYPXW445FTYNJ3CYSXHAFJMA2HUWULUNRFE3BLHRSCXYH2M5AEGQY"
    units = parse_code(code)
    assert [u.kind for u in units] == ["meta", "content-text", "data", "instance"]
    assert parse_code(code.removeprefix("ISCC:").lower()) == units
    assert parse_code("EAARMJLTQCUWAND2") == [units[1]]


def test_fpcalc_complete_output_rule():
    assert fpcalc_output_complete(b'{"duration": 3.00, "fingerprint": [1, -2, 3]}')
    assert not fpcalc_output_complete(b'{"duration": 3.00, "fingerprint": []}')
    assert not fpcalc_output_complete(b'{"duration": 3.00, "fingerp')
    assert not fpcalc_output_complete(b"")


def test_the_sdk_can_no_longer_download_tools():
    import iscc_sdk

    from obra.identify.tools import MediaToolMissing, configure

    configure()
    with pytest.raises(MediaToolMissing, match="never downloads"):
        iscc_sdk.tools.download_file("https://example.org/ffmpeg.zip", checksum="x")
    with pytest.raises(MediaToolMissing):
        iscc_sdk.tools.ffmpeg_install()
    assert iscc_sdk.tools.fpcalc_bin() == shutil.which("fpcalc")

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567abc:!=- 01"


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=80), st.text(alphabet=ALPHABET, max_size=80).map(lambda s: "ISCC:" + s)))
def test_any_text_is_either_a_code_or_a_clear_refusal(text):
    try:
        units = parse_code(text)
    except InvalidInput as exc:
        assert exc.problems and exc.problems[0].message
    else:
        assert units and all(0 <= u.body < 2**64 for u in units)
