"""The import's compact key sets, and the search vocabulary staying right through imports (bulk
inserts no longer feed an unloaded vocabulary word by word: an index token marks it stale)."""

from __future__ import annotations

import random

from import_support import csv_bytes, import_file
from qconnect_local.importing.keyset import KeySet


def test_keyset_answers_like_a_set():
    rng = random.Random(7)
    keys, reference = KeySet(["pre", "é"]), {"pre", "é"}
    for _ in range(20_000):
        key = rng.choice(["", "é", "a\udc80", "x" * 40]) + str(rng.randrange(6000))
        assert (key in keys) == (key in reference)
        keys.add(key)
        reference.add(key)
    assert len(keys) == len(reference)
    assert 5 not in keys and "pre" in keys and "missing" not in keys


def _search(qconnect, kb_id, **query):
    out = qconnect.search_quick_responses(knowledgeBaseId=kb_id, searchExpression={"queries": [query]})
    return sorted(r["name"] for r in out["results"])


def test_prefix_fuzzy_and_exact_search_see_imported_words(qconnect, quick_responses_kb):
    kb_id = quick_responses_kb["knowledgeBaseId"]
    first = csv_bytes([["Name", "Content"], ["alpha one", "greetings traveller"]])
    assert import_file(qconnect, kb_id, first)["status"] == "COMPLETE"
    # The first search loads the vocabulary (after an import that did not feed it).
    assert _search(qconnect, kb_id, name="content", values=["travel"], operator="CONTAINS_AND_PREFIX") == ["alpha one"]
    # A second import on top of a loaded vocabulary: its words are counted in, and a search sees them.
    second = csv_bytes([["Name", "Content"], ["beta two", "farewell wanderer"], ["gamma", "wanderlust"]])
    assert import_file(qconnect, kb_id, second)["status"] == "COMPLETE"
    assert _search(qconnect, kb_id, name="content", values=["wander"], operator="CONTAINS_AND_PREFIX") == [
        "beta two",
        "gamma",
    ]
    assert _search(
        qconnect, kb_id, name="content", values=["wanderlost"], operator="CONTAINS", allowFuzziness=True
    ) == ["gamma"]
    # Exact whole-field matches still score double (bucketed exact keys): the exact one comes first.
    qconnect.create_quick_response(knowledgeBaseId=kb_id, name="wanderlust extra", content={"content": "x"})
    out = qconnect.search_quick_responses(
        knowledgeBaseId=kb_id,
        searchExpression={
            "queries": [
                {"name": "name", "values": ["gamma"], "operator": "CONTAINS"},
                {"name": "content", "values": ["wanderlust"], "operator": "CONTAINS"},
            ]
        },
    )
    assert [r["name"] for r in out["results"]][0] == "gamma"


def test_keyset_vacancy_and_fill_answer_like_a_set():
    """The import's one-probe path: `vacancy` is -1 exactly for keys in the set, and `fill` at
    the slot it gave adds the key (through regrowths, from a small size hint or a big one)."""
    rng = random.Random(11)
    for expected in (0, 50_000):
        keys, reference = KeySet(["pre"], expected=expected), {"pre"}
        for _ in range(20_000):
            key = rng.choice(["", "é", "x" * 40]) + str(rng.randrange(6000))
            slot = keys.vacancy(key)
            assert (slot < 0) == (key in reference)
            if slot >= 0:
                keys.fill(slot, key)
                reference.add(key)
            assert key in keys
        assert len(keys) == len(reference)
        assert all(k in keys for k in reference)
