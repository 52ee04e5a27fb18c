"""Excerpts, highlights and relevance levels of Retrieve and QueryAssistant results: plain
functions of a text and the query's words (docs/assistants.md, "Retrieval", has the rules)."""

from __future__ import annotations

import re
from collections import Counter

from qconnect_local.search.plan import tokenize

EXCERPT_CHARS = 300  # the longest excerpt
CONTEXT_CHARS = 40  # text kept before the excerpt's first query word
_WORD = re.compile(r"[^\W_]+")  # the words of search.plan.tokenize, with their places

Span = tuple[int, int]


def query_words(text: str, at_most: int) -> list[str]:
    """The distinct words of a query in their order, the first `at_most` of them."""
    return list(dict.fromkeys(tokenize(text)))[:at_most]


def word_spans(text: str, words: set[str]) -> list[tuple[int, int, str]]:
    """(start, end, word) of every occurrence of one of `words` in `text`, in order."""
    out = []
    for m in _WORD.finditer(text):
        word = m.group().lower()
        if word in words:
            out.append((m.start(), m.end(), word))
    return out


def highlights(text: str, words: set[str]) -> list[Span]:
    return [(start, end) for start, end, _ in word_spans(text, words)]


def _best_anchor(spans: list[tuple[int, int, str]]) -> int:
    """The index of the occurrence that starts the window (EXCERPT_CHARS - CONTEXT_CHARS long)
    holding the most distinct query words; the first such on ties."""
    width = EXCERPT_CHARS - CONTEXT_CHARS
    best, best_count, end = 0, 0, 0
    counts: Counter[str] = Counter()
    for i, (start, _, _) in enumerate(spans):
        end = max(end, i)  # a word longer than the window leaves it empty
        while end < len(spans) and spans[end][1] <= start + width:
            counts[spans[end][2]] += 1
            end += 1
        if len(counts) > best_count:
            best, best_count = i, len(counts)
        if end > i:
            counts[spans[i][2]] -= 1
            if counts[spans[i][2]] == 0:
                del counts[spans[i][2]]
    return best


def excerpt(text: str, words: set[str]) -> tuple[str, list[Span]]:
    """A passage of `text` (whitespace runs made one space) of at most EXCERPT_CHARS around the
    place with the most distinct query words, cut at spaces, and its highlights."""
    flat = " ".join(text.split())
    spans = word_spans(flat, words)
    start = 0
    if spans:
        anchor = spans[_best_anchor(spans)][0]
        start = max(0, anchor - CONTEXT_CHARS)
        if start > 0:
            space = flat.find(" ", start, anchor)
            start = space + 1 if space >= 0 else anchor
    end = min(len(flat), start + EXCERPT_CHARS)
    if end < len(flat) and flat[end] != " ":
        space = flat.rfind(" ", start, end)
        if space > start:
            end = space
    passage = flat[start:end].rstrip()
    marks = [(s - start, e - start) for s, e, _ in spans if s >= start and e <= start + len(passage)]
    return passage, marks


def relevance_level(words: list[str], *texts: str) -> str:
    """HIGH when the texts hold every query word, MEDIUM when at least half, else LOW."""
    found: set[str] = set()
    wanted = set(words)
    for text in texts:
        found |= wanted.intersection(tokenize(text))
    if len(found) == len(wanted):
        return "HIGH"
    return "MEDIUM" if 2 * len(found) >= len(wanted) else "LOW"
