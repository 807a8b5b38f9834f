"""Artist-centric presets are data: each names its parameters, what it leaves out and its sources."""

from __future__ import annotations

import json
from dataclasses import fields

import pytest

from obra.errors import InvalidInput
from obra.royalties.distribution import ARTIST_CENTRIC_PRESETS, ArtistCentric
from obra.royalties.distribution.artist_centric import PRESETS_FILE, artist_params, load_presets


def test_every_preset_has_valid_parameters_and_its_sources():
    data = json.loads(PRESETS_FILE.read_text(encoding="utf-8"))
    assert set(data) == set(ARTIST_CENTRIC_PRESETS) == {"deezer-2023", "spotify-2024"}
    names = {f.name for f in fields(ArtistCentric)}
    for name, entry in data.items():
        assert entry["model"] == "artist-centric", name
        assert set(entry["parameters"]) <= names, name
        assert entry["sources"] and all(s.startswith("https://") for s in entry["sources"]), name
        assert entry["not_modelled"], name
        assert ARTIST_CENTRIC_PRESETS[name] == ArtistCentric(**entry["parameters"])


def test_the_deezer_and_spotify_rules_as_published():
    deezer, spotify = artist_params("deezer-2023"), artist_params("spotify-2024")
    # Deezer 2023: >= 1,000 streams a month by >= 500 listeners counts double; searched-for plays
    # count double; a listener counts for at most 1,000 streams a month.
    assert (deezer.min_artist_streams, deezer.min_artist_listeners, deezer.professional_weight,
            deezer.user_initiated_weight, deezer.per_user_cap) == (1000, 500, 2, 2, 1000)
    # Spotify 2024: a track needs 1,000 streams in twelve months; nothing else changes.
    assert spotify == ArtistCentric(min_item_streams=1000)
    assert artist_params(None) == deezer


def test_a_preset_file_with_an_unknown_or_negative_parameter_is_refused(tmp_path):
    bad = tmp_path / "presets.json"
    bad.write_text(json.dumps({"x": {"parameters": {"min_item_streams": -1}}}))
    with pytest.raises(InvalidInput):
        load_presets(bad)
    bad.write_text(json.dumps({"x": {"parameters": {"max_streams": 5}}}))
    with pytest.raises(InvalidInput, match="unknown parameter.*max_streams"):
        load_presets(bad)
    with pytest.raises(InvalidInput, match="unknown artist-centric preset"):
        artist_params("tidal-2030")
