"""Excerpts, highlights and relevance levels of Retrieve and QueryAssistant (search/excerpts.py)."""

from __future__ import annotations

from qconnect_local.search.excerpts import (
    CONTEXT_CHARS,
    EXCERPT_CHARS,
    excerpt,
    highlights,
    query_words,
    relevance_level,
)


def marked(text: str, marks: list[tuple[int, int]]) -> list[str]:
    return [text[b:e] for b, e in marks]


def test_query_words_are_distinct_lower_case_and_bounded():
    assert query_words("Reset my PASSWORD, reset it!", 10) == ["reset", "my", "password", "it"]
    assert query_words("a b c d", 2) == ["a", "b"]
    assert query_words("  ,, ", 5) == []


def test_highlights_are_whole_words_in_any_case():
    assert marked("Refund, refunds and REFUND_x", highlights("Refund, refunds and REFUND_x", {"refund"})) == [
        "Refund",
        "REFUND",
    ]


def test_short_text_is_the_whole_excerpt_with_spaces_made_one():
    text, marks = excerpt("Your  refund\n\nis on its way.", {"refund", "way"})
    assert text == "Your refund is on its way."
    assert marked(text, marks) == ["refund", "way"]


def test_long_text_excerpt_is_around_the_most_query_words():
    filler = " ".join(f"filler{i}" for i in range(200))
    body = f"card {filler} the refund reaches your card in five days {filler} refund"
    text, marks = excerpt(body, {"refund", "card", "days"})
    assert len(text) <= EXCERPT_CHARS
    assert "the refund reaches your card in five days" in text
    assert text.index("refund") <= CONTEXT_CHARS + 1
    assert not text.startswith(" ") and body.find(text) >= 0  # cut at spaces, a passage of the text
    assert marked(text, marks)[:3] == ["refund", "card", "days"]


def test_no_query_word_in_the_text_gives_its_start():
    text, marks = excerpt("word " * 100, {"absent"})
    assert text.startswith("word word") and len(text) <= EXCERPT_CHARS and marks == []


def test_relevance_level():
    assert relevance_level(["a", "b"], "A title", "and b text") == "HIGH"
    assert relevance_level(["a", "b"], "only a") == "MEDIUM"
    assert relevance_level(["a", "b", "c"], "only a") == "LOW"
