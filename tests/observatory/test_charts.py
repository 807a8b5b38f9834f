"""Charts with several series: drawn the same every time, axes labelled, nothing to draw explained."""

from __future__ import annotations

import pytest

from obra.errors import InvalidInput
from obra.render.chart_series import empty_svg, series_svg


def test_the_same_data_draws_the_same_svg_with_its_labels():
    args = ("line", ["0%", "50%", "100%"], {"equality": [0, 0.5, 1], "artists": [0, 0.1, 1]})
    one = series_svg(*args, title="Lorenz", x_label="share of artists", y_label="share of income", percent=True)
    assert one == series_svg(*args, title="Lorenz", x_label="share of artists", y_label="share of income", percent=True)
    for text in ("Lorenz", "share of artists", "share of income", "equality", "artists", "100%"):
        assert f">{text}<" in one
    assert one.startswith('<svg role="img" aria-label="Lorenz"')


def test_nothing_to_draw_is_said_not_raised():
    svg = series_svg("bar", [], {}, title="AI licensing income", empty="No AI licences yet")
    assert ">No AI licences yet<" in svg and ">AI licensing income<" in svg
    assert svg == empty_svg("AI licensing income", "No AI licences yet")


def test_bad_series_are_named():
    with pytest.raises(InvalidInput, match="series 'a' has 1 values for 2 labels"):
        series_svg("bar", ["x", "y"], {"a": [1]})
    with pytest.raises(InvalidInput, match="unknown chart kind 'pie'"):
        series_svg("pie", ["x"], {"a": [1]})
