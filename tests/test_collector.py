"""The collector pause: off inside, back as it was after (also after an error, also nested)."""

from __future__ import annotations

import gc

import pytest

from obra.collector import paused


@pytest.fixture(autouse=True)
def _restore():
    was = gc.isenabled()
    yield
    (gc.enable if was else gc.disable)()


def test_the_collector_is_off_inside_and_on_again_after():
    gc.enable()
    with paused():
        assert not gc.isenabled()
        with paused():
            assert not gc.isenabled()
        assert not gc.isenabled()   # the inner block does not turn it on under the outer one
    assert gc.isenabled()


def test_an_error_inside_still_turns_it_on_again():
    gc.enable()
    with pytest.raises(ZeroDivisionError):
        with paused():
            1 / 0
    assert gc.isenabled()


def test_a_caller_that_turned_it_off_keeps_it_off():
    gc.disable()
    with paused():
        pass
    assert not gc.isenabled()


def test_as_a_decorator_each_call_pauses_it():
    seen = []

    @paused()
    def job():
        seen.append(gc.isenabled())

    gc.enable()
    job()
    job()
    assert seen == [False, False] and gc.isenabled()
