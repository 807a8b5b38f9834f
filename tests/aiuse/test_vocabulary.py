"""The token tables are the documented mapping (research note §10): these pin the cells where
the standards disagree, so a change to one is a deliberate change to the mapping."""

import pytest

from obra.aiuse.vocabulary import AI_USES, ALL_USES, TOKENS, TRAINING, Use, tokens_for, uses_of


@pytest.mark.parametrize("standard, token, uses", [
    ("aipref", "train-ai", (Use.AI_TRAIN_GENERATIVE,)),          # vocab-07: generative only
    ("content-signals", "ai-train", TRAINING),                   # every kind of training
    ("rsl", "ai-train", TRAINING),
    ("cawg", "cawg.ai_generative_training", (Use.AI_TRAIN_GENERATIVE,)),
    ("cawg", "cawg.ai_training", (Use.AI_TRAIN_OTHER,)),         # non-generative, not "all training"
    ("tdmai", "train-genai", (Use.AI_TRAIN_GENERATIVE,)),
    ("rsl", "ai-all", AI_USES),
    ("rsl", "all", ALL_USES),
])
def test_tokens_that_look_alike_cover_what_their_standard_says(standard, token, uses):
    assert uses_of(standard, token) == uses


def test_no_standard_is_guessed_where_it_has_no_token():
    assert tokens_for("aipref", Use.AI_TRAIN_OTHER) == ()
    assert tokens_for("aipref", Use.TDM) == ()
    assert uses_of("aipref", "train-genai") == ()                # an old label is not a current token
    assert tokens_for("rsl", Use.AI_TRAIN_GENERATIVE)[0] == "ai-train"   # most specific first


def test_every_token_maps_to_at_least_one_use():
    for standard, table in TOKENS.items():
        for token, uses in table.items():
            assert uses and all(isinstance(u, Use) for u in uses), (standard, token)
