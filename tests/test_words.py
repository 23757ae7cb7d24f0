"""The word lists live in data files (personas/words/*.toml), one per kind, and the code
reads them there."""

from __future__ import annotations

import pytest

from personas import _words


@pytest.mark.parametrize("kind", _words.KINDS)
def test_every_kind_loads(kind):
    lists = _words.load(kind)
    assert lists and all(value for value in lists.values())


def test_the_code_reads_the_files():
    from personas.interpret import _insights
    from personas.io import _infer, _names
    from personas.profiles import _mapping, _vocabulary

    columns, events = _words.load("column_names"), _words.load("event_names")
    assert set(columns["table"]["id"]) == _names.ID_TOKENS
    assert set(columns["events"]["users"]) == _mapping.USER_WORDS
    user_tiers = next(t for m, t, _ in _mapping._RULES if m == "user_id")
    assert user_tiers[0] == _mapping.USER_WORDS  # "@users" stands for the list
    assert set(_vocabulary.PURCHASE_TYPES) == set(events["purchase"])
    assert set(_vocabulary.SUBSCRIPTION_TYPES) >= set(events["renewal"]) | set(events["cancel"])
    assert _words.load("values")["table"]["missing"] == _infer.DEFAULT_MISSING
    assert set(_words.load("signals")["discount"]) == _insights.DISCOUNT_TOKENS
    with pytest.raises(ValueError, match="No word lists of kind 'colours'"):
        _words.load("colours")
    with pytest.raises(ValueError, match="'@nothing' names no word list"):
        _words.word_set(["@nothing"], {})
