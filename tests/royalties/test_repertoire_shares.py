"""The repertoire's shares, made straight from the store's rows, are the models ``model_construct`` makes."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from obra.model import Share
from obra.store.repertoire import _SHARE_FIELDS, _share


@given(party=st.integers(1, 10**6), role=st.none() | st.sampled_from(["composer", "featured_performer"]),
       right=st.sampled_from(["performance", "mechanical", "making_available"]),
       territory=st.sampled_from(["2WL", "ES", "2EU"]),
       share=st.decimals(0, 100, places=4, allow_nan=False, allow_infinity=False))
def test_share_from_a_row_is_model_construct(party, role, right, territory, share: Decimal):
    values = [party, role, right, territory, share]
    got = _share(values)
    want = Share.model_construct(**dict(zip(_SHARE_FIELDS, values)))
    assert type(got) is Share
    assert got == want and hash(got) == hash(want)
    assert got.__dict__ == want.__dict__ and list(got.__dict__) == list(want.__dict__)
    assert got.model_fields_set == want.model_fields_set
    assert (got.__pydantic_extra__, got.__pydantic_private__) == (want.__pydantic_extra__, want.__pydantic_private__)
    assert repr(got) == repr(want)
