"""Distribution models: how a pool of money is shared over what was played.

Every model here is written once, as Ibis expressions, and runs unchanged on DuckDB and
on Spark (:mod:`obra.royalties.engine`). A pool is the money a service pays for one
*period × territory × service × commercial model* (and currency); the models differ in
how they weigh the plays in that pool:

``pro-rata``
    Each recording's (or work's) share of the pool is its share of all plays. A heavy
    listener's plays weigh as much as everyone else's money.
``user-centric``
    Each subscriber's own payment (a pool row with ``user_id``) is split over what that
    subscriber played. Money not attributable to a subscriber (pool rows without
    ``user_id``, e.g. advertising) is shared pro-rata. A subscriber who paid and played
    nothing matched has their money held as unallocated.
``artist-centric``
    Pro-rata over *weighted* plays, with eligibility thresholds and weights as
    parameters (:class:`ArtistCentric`); presets for Deezer's 2023 model and Spotify's
    2024 minimum-streams rule are data, with their sources (``presets.json``).

**Money and rounding.** Pools are integer minor units. Weights are computed in the
engine (integers), and the pool is split by :func:`allocate_expr`, which reproduces
:func:`obra.money.allocate` exactly with window functions: each recipient gets the floor
of its exact share; the minor units left over go one each to the largest remainders;
ties go to matched items before the unmatched bucket, then to the lower item number
(byte order). Products are computed in ``DECIMAL(38,0)`` so no intermediate overflows.
User-centric rounds once per pool too: each subscriber's share of an item is kept to a
billionth of a minor unit, summed per item, and the pool is split over those sums by the
same rule (see :func:`user_centric`).

**Nothing is lost.** Plays that matched nothing keep their weight: their share of the
pool is booked as *unallocated* (held for claims), as is money of pools nobody played
and of subscribers who played nothing matched. Every run checks, per currency, that
distributed + unallocated = revenue to the minor unit (:func:`obra.money.assert_conserved`)
before it returns.

**Where things are.** One module per model (:mod:`.pro_rata`, :mod:`.user_centric`,
:mod:`.artist_centric` with its ``presets.json``); what they share in :mod:`.common`
(:class:`Distribution`, :func:`allocate_expr`, the conservation check); the registry of
models and :func:`distribute` in :mod:`.models`. A new model is a function registered with
:func:`register_model`.
"""

from obra.royalties.distribution.artist_centric import ARTIST_CENTRIC_PRESETS, ArtistCentric, artist_centric
from obra.royalties.distribution.common import (TARGETS, Distribution, allocate_expr, check_conserved,
                                                matched_lines)
from obra.royalties.distribution.models import GRAINS, MODELS, Model, distribute, register_model
from obra.royalties.distribution.pro_rata import pro_rata
from obra.royalties.distribution.user_centric import USER_SHARE_DIGITS, user_centric

__all__ = ["ARTIST_CENTRIC_PRESETS", "ArtistCentric", "Distribution", "GRAINS", "MODELS", "Model", "TARGETS",
           "USER_SHARE_DIGITS", "allocate_expr", "artist_centric", "check_conserved", "distribute",
           "matched_lines", "pro_rata", "register_model", "user_centric"]
