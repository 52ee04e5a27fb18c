"""One query of a search on the SQLite store: FTS5 expressions, Python tests and an estimate."""

from __future__ import annotations

import re
import sqlite3

from qconnect_local.search.plan import QueryPlan, fuzzy_distance, tokenize
from qconnect_local.storage.sqlite.search.exact_keys import exact_key, legacy_exact_key
from qconnect_local.storage.sqlite.search.vocabulary import Words, vocabulary

MAX_EXPANSION = 16  # prefix words searched as an OR of the words they expand to, up to this many


def _quote(word: str) -> str:
    return '"' + word + '"'


def _pieces(word: str, n: int) -> list[str]:
    """`word` cut into n contiguous pieces of nearly equal length."""
    cuts = [round(i * len(word) / n) for i in range(n + 1)]
    return [word[a:b] for a, b in zip(cuts, cuts[1:], strict=False)]


class _FuzzyTest:
    """A fuzzy word's test on a field's lower-cased text without the vocabulary: some word of
    the text is within the word's fuzzy distance (or, for a prefix, starts with it). Has a
    compiled pattern's `search`, as Matcher's tests do."""

    def __init__(self, word: str, prefix: bool) -> None:
        self.word, self.prefix, self.limit = word, prefix, fuzzy_distance(word)

    def search(self, lowered: str) -> bool:
        from rapidfuzz.distance import Levenshtein

        word, limit = self.word, self.limit
        for w in tokenize(lowered):
            if (self.prefix and w.startswith(word)) or Levenshtein.distance(w, word, score_cutoff=limit) <= limit:
                return True
        return False


class Matcher:
    """One query, as FTS5 expressions (its matches; its possible exact matches), as Python tests
    on a field's text (the reference's rules), and an estimate of how many rows it matches (from
    the vocabulary's document counts, words assumed independent)."""

    def __init__(
        self, query: QueryPlan, conn: sqlite3.Connection, words: tuple[Words | None, bool] | None = None
    ) -> None:
        self.query = query
        self.column = column = query.column
        loaded, fresh = words if words is not None else vocabulary(conn).lookup(conn)
        fts_values, self._tests, self._exact = [], [], []
        sql_values: list[str] = []
        self.sql_params: list[str] = []
        self.estimate = 0.0
        # Without up-to-date words (a load in progress) a fuzzy word's neighbours are unknown:
        # such a query cannot be fetched from FTS5, only tested on walked rows.
        self.walk_only = False
        rows = max(loaded.rows, 1) if loaded is not None else 1
        for value in query.values:
            words_fts: list[str] = []
            tests: list[_FuzzyTest | re.Pattern[str]] = []
            sql_words: list[str] = []
            fraction = 1.0
            for i, word in enumerate(value):
                prefix = query.prefix and i == len(value) - 1
                fuzzy = query.fuzzy and fuzzy_distance(word) > 0
                # Document counts (estimates only: stale words will do; none: 0, fetch and see).
                docs = loaded.count(column, word) if loaded is not None else 0
                if fuzzy and fresh:
                    alternatives, docs = loaded.near(column, word)  # type: ignore[union-attr]
                else:
                    alternatives = [word]
                parts = [_quote(w) for w in alternatives]
                if prefix:
                    expanded, prefix_docs = loaded.with_prefix(column, word) if loaded is not None else ([], 0)
                    docs = max(docs, prefix_docs)
                    if fresh and len(expanded) <= MAX_EXPANSION:
                        # A few words: an OR of them streams; FTS5's `*` would first merge the
                        # doclists of every word with the prefix.
                        parts.extend(_quote(w) for w in expanded if w not in alternatives)
                    else:
                        parts.append(_quote(word) + " *")
                fraction *= min(1.0, docs / rows)
                words_fts.append(parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")")
                if fuzzy and not fresh:
                    self.walk_only = True
                    tests.append(_FuzzyTest(word, prefix))
                    # Superset in SQL: d edits leave one of d + 1 pieces of the word intact.
                    needles = _pieces(word, fuzzy_distance(word) + 1)
                else:
                    alt = "|".join(re.escape(w) for w in alternatives)
                    pattern = rf"(?<![^\W_])(?:{alt})(?![^\W_])"
                    if prefix:
                        pattern = rf"(?<![^\W_])(?:{re.escape(word)}|(?:{alt})(?![^\W_]))"
                    tests.append(re.compile(pattern))
                    # A superset test in SQL for walks: the word (or an alternative) occurs somewhere.
                    needles = [word] if prefix else []
                    needles += [w for w in alternatives if not (prefix and w.startswith(word))]
                sql_words.append("(" + " OR ".join(f"instr(lower(q.{column}), ?) > 0" for _ in needles) + ")")
                self.sql_params.extend(needles)
            self.estimate += fraction * rows
            sql_values.append("(" + " AND ".join(sql_words) + ")")
            fts_values.append("(" + " AND ".join(words_fts) + ")")
            self._tests.append(tests)
            self._exact.append(list(value))
        self.fts = "{" + column + "} : (" + " OR ".join(fts_values) + ")"
        # SQLite's lower() folds ASCII only: rows with other characters always go to Python.
        self.sql = (
            f"(({' OR '.join(sql_values)}) OR length(CAST(q.{column} AS BLOB)) != length(q.{column}))"
            if all(w.isascii() for value in query.values for w in value)
            else "1"
        )
        if self.sql == "1":
            self.sql_params = []
        self.fts_exact = (
            "{exact_keys} : ("
            + " OR ".join(_quote(key(column, value)) for value in query.values for key in (exact_key, legacy_exact_key))
            + ")"
        )

    def exact(self, text: str | None) -> bool:
        if text is None:
            return False
        words = tokenize(text)
        return any(words == value for value in self._exact)

    def matches(self, lowered: str) -> bool:
        return any(all(t.search(lowered) for t in tests) for tests in self._tests)

    def strength(self, text: str | None, may_be_exact: bool) -> int:
        """0, 1 or 2 (exact whole-field match), as reference.query_strength. Only rows found by
        `fts_exact` can be exact (`may_be_exact`), so others are never tokenized."""
        if text is None or not self.matches(text.lower()):
            return 0
        return 2 if may_be_exact and self.exact(text) else 1
