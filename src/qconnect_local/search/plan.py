"""The search expression of SearchQuickResponses, compiled to a store-neutral query plan.

`compile_search(expression, limit, after)` validates a QuickResponseSearchExpression and returns
a `SearchPlan`: plain data (no SQL) that each store turns into its own SQL (storage/sqlite/search/
and storage/postgres/search.py). `reference.py` evaluates the same plan in
plain Python over records: it is the specification the stores are tested against.

Semantics (reference §8.6). The docs give field names and operators but no algorithm, so every
rule below except the field lists, operators, limits and enums (from the model) is **inferred**:

1. Candidates: every quick response of the knowledge base, active or not (callers filter on
   isActive themselves).
2. Filters are ANDed; the values of one filter are ORed.
   - EQUALS is exact, case-sensitive equality; PREFIX is `startswith`.
   - `isActive` compares the strings "true"/"false" (any other value matches nothing).
   - `createdTime`/`lastModifiedTime` take epoch seconds or ISO-8601 and compare to the
     millisecond; PREFIX is not defined for booleans and timestamps (ValidationException).
   - List fields (`channels`, `groupingConfiguration.values`) match when any element matches.
   - An absent member or an empty list matches only with `includeNoExistence=true`.
   - A filter without `values` matches when the member exists, or, with includeNoExistence,
     when it does not.
3. Queries: a quick response matches when any query matches (scores add up); the values of one
   query are ORed. Text is split into lower-case words (`tokenize`).
   - CONTAINS: every word of the value is a word of the field.
   - CONTAINS_AND_PREFIX: the same, but the value's last word may be a prefix of a field word.
   - allowFuzziness: a word also matches field words within Levenshtein distance 1 (words of
     4-7 characters) or 2 (8 or more).
   - A value with no words matches nothing. With no queries every filtered candidate matches with
     score 0.
4. Score = sum over matching queries of weight (priority HIGH 3, MEDIUM 2 (default), LOW 1) x 2
   when some value is an exact whole-field match (the field's words are exactly the value's
   words, in order), x 1 otherwise.
5. Order: by score descending, then name ascending (names are unique in a knowledge base, so this
   is total). With `orderOnField`: by that field (ASC by default; a missing value sorts last in both
   directions; a list sorts by its elements in order), then score descending, then name.
6. Pages: keyset pagination on that order (`SortKey`); the token also binds the expression.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from qconnect_local.errors import ValidationException

# API field -> (storage column, kind). Kinds: text, bool, time, list.
FILTER_FIELDS: dict[str, tuple[str, str]] = {
    "name": ("name", "text"),
    "description": ("description", "text"),
    "shortcutKey": ("shortcut_key", "text"),
    "isActive": ("is_active", "bool"),
    "channels": ("channels", "list"),
    "language": ("language", "text"),
    "contentType": ("content_type", "text"),
    "createdTime": ("created_time", "time"),
    "lastModifiedTime": ("modified_time", "time"),
    "lastModifiedBy": ("modified_by", "text"),
    "groupingConfiguration.criteria": ("grouping_criteria", "text"),
    "groupingConfiguration.values": ("grouping_values", "list"),
}
ORDER_FIELDS = FILTER_FIELDS
# Query field -> storage column (the FTS/tsvector column).
QUERY_FIELDS: dict[str, str] = {
    "content": "content",
    "name": "name",
    "description": "description",
    "shortcutKey": "shortcut_key",
}
# SearchMessageTemplates' fields (the model's): filters and order share one table.
MESSAGE_TEMPLATE_FILTER_FIELDS: dict[str, tuple[str, str]] = {
    "name": ("name", "text"),
    "description": ("description", "text"),
    "channel": ("channel", "text"),
    "channelSubtype": ("channel_subtype", "text"),
    "language": ("language", "text"),
    "qualifier": ("qualifiers", "list"),
    "createdTime": ("created_time", "time"),
    "lastModifiedTime": ("modified_time", "time"),
    "lastModifiedBy": ("modified_by", "text"),
    "groupingConfiguration.criteria": ("grouping_criteria", "text"),
    "groupingConfiguration.values": ("grouping_values", "list"),
}
MESSAGE_TEMPLATE_QUERY_FIELDS: dict[str, str] = {"name": "name", "description": "description"}
WEIGHTS = {"HIGH": 3, "MEDIUM": 2, "LOW": 1}
DEFAULT_PRIORITY = "MEDIUM"

# Words: runs of Unicode letters and digits (what SQLite's unicode61 tokenizer and
# PostgreSQL's 'simple' parser both split on for ordinary text), lower-cased.
_WORD = re.compile(r"[^\W_]+")
LIST_SEPARATOR = "\x1f"


# For ASCII text the same words come from a byte translation (faster than the regex).
ASCII_WORD_BYTES = bytes(c if (48 <= c <= 57 or 97 <= c <= 122) else 32 for c in range(256))


def tokenize(text: str) -> list[str]:
    lowered = text.lower()
    if lowered.isascii():
        return lowered.encode("ascii").translate(ASCII_WORD_BYTES).decode("ascii").split()
    return _WORD.findall(lowered)


def fuzzy_distance(word: str) -> int:
    """How far a query word may be from a field word with allowFuzziness."""
    n = len(word)
    return 2 if n >= 8 else 1 if n >= 4 else 0


def list_sort_value(values: list[str] | None) -> str | None:
    """A list member as one comparable string: elements in order, '\\x1f' around each (the
    separator sorts below every printable character, so this orders lists element by element)."""
    if not values:
        return None
    return LIST_SEPARATOR + LIST_SEPARATOR.join(values) + LIST_SEPARATOR


@dataclass(frozen=True)
class QueryPlan:
    field: str  # API name: content | name | description | shortcutKey
    column: str  # storage column
    values: tuple[tuple[str, ...], ...]  # each value's words (values ORed; word-less ones dropped)
    prefix: bool  # CONTAINS_AND_PREFIX: the last word may be a prefix
    fuzzy: bool  # allowFuzziness
    weight: int  # 3 / 2 / 1


@dataclass(frozen=True)
class FilterPlan:
    field: str
    column: str
    kind: str  # text | bool | time | list
    operator: str  # EQUALS | PREFIX
    # Converted values (str for text/list, bool for bool, float epoch seconds for time), ORed.
    # None: the filter has no values (existence test). A bool filter's values that are neither
    # "true" nor "false" are dropped, so an empty tuple matches nothing (but missing members
    # with includeNoExistence).
    values: tuple[Any, ...] | None
    include_missing: bool


@dataclass(frozen=True)
class OrderPlan:
    field: str
    column: str
    kind: str
    descending: bool


@dataclass(frozen=True)
class SortKey:
    """A result's position in the plan's order: (order value, score, name). `value` is the
    orderOnField value (None when the member is missing, or when there is no orderOnField)."""

    value: Any
    score: int
    name: str

    def to_json(self) -> list[Any]:
        return [self.value, self.score, self.name]

    @classmethod
    def from_json(cls, data: Any) -> SortKey:
        if (
            not isinstance(data, list)
            or len(data) != 3
            or not isinstance(data[1], int)
            or not isinstance(data[2], str)
            or not isinstance(data[0], (str, int, float, type(None)))
        ):
            raise ValidationException("Invalid pagination token")
        return cls(data[0], data[1], data[2])


@dataclass(frozen=True)
class SearchPlan:
    queries: tuple[QueryPlan, ...]
    filters: tuple[FilterPlan, ...]
    order: OrderPlan | None
    limit: int  # page size; a store returns up to limit + 1 rows
    after: SortKey | None  # the last result of the previous page

    def sorts_before(self, a: SortKey, b: SortKey) -> bool:
        """True when a comes strictly before b in this plan's order."""
        return compare(self, a, b) < 0


def compare(plan: SearchPlan, a: SortKey, b: SortKey) -> int:
    if plan.order is not None and a.value != b.value:
        if a.value is None:
            return 1
        if b.value is None:
            return -1
        less = a.value < b.value
        return (1 if less else -1) if plan.order.descending else (-1 if less else 1)
    if a.score != b.score:
        return -1 if a.score > b.score else 1
    if a.name != b.name:
        return -1 if a.name < b.name else 1
    return 0


# -- compiling ------------------------------------------------------------------------------------


def _unknown(kind: str, name: str, known: Any) -> ValidationException:
    return ValidationException(f"Unknown {kind} field '{name}'; supported fields: {', '.join(known)}")


def _parse_time(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        pass
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.timestamp()


def _compile_filter(raw: dict[str, Any], fields: dict[str, tuple[str, str]]) -> FilterPlan:
    name = raw["name"]
    if name not in fields:
        raise _unknown("filter", name, fields)
    column, kind = fields[name]
    operator = raw["operator"]
    if operator == "PREFIX" and kind in ("bool", "time"):
        raise ValidationException(f"The PREFIX operator is not supported for the field '{name}'")
    raw_values = raw.get("values")
    values: tuple[Any, ...] | None = None
    if raw_values is not None:
        if kind == "bool":
            values = tuple(v == "true" for v in raw_values if v in ("true", "false"))
        elif kind == "time":
            parsed = [_parse_time(v) for v in raw_values]
            if any(p is None for p in parsed):
                raise ValidationException(f"Values of the field '{name}' must be epoch seconds or ISO-8601 timestamps")
            values = tuple(round(p, 3) for p in parsed if p is not None)
        else:
            values = tuple(raw_values)
    return FilterPlan(name, column, kind, operator, values, bool(raw.get("includeNoExistence")))


def _compile_query(raw: dict[str, Any], fields: dict[str, str]) -> QueryPlan:
    name = raw["name"]
    if name not in fields:
        raise _unknown("query", name, fields)
    values = tuple(dict.fromkeys(t for t in (tuple(tokenize(v)) for v in raw["values"]) if t))
    return QueryPlan(
        field=name,
        column=fields[name],
        values=values,
        prefix=raw["operator"] == "CONTAINS_AND_PREFIX",
        fuzzy=bool(raw.get("allowFuzziness")),
        weight=WEIGHTS[raw.get("priority") or DEFAULT_PRIORITY],
    )


def compile_search(
    expression: dict[str, Any],
    limit: int,
    after: SortKey | None = None,
    filter_fields: dict[str, tuple[str, str]] = FILTER_FIELDS,
    query_fields: dict[str, str] = QUERY_FIELDS,
) -> SearchPlan:
    """A validated plan, or ValidationException (unknown field names, PREFIX on a boolean or
    timestamp, an unparseable timestamp). The model's own constraints (list sizes, enums,
    required members) were checked by the protocol layer. The field tables default to quick
    responses'; message templates pass theirs (filters and order share one table)."""
    queries = tuple(_compile_query(q, query_fields) for q in expression.get("queries") or ())
    filters = tuple(_compile_filter(f, filter_fields) for f in expression.get("filters") or ())
    order = None
    raw_order = expression.get("orderOnField")
    if raw_order is not None:
        name = raw_order["name"]
        if name not in filter_fields:
            raise _unknown("order", name, filter_fields)
        column, kind = filter_fields[name]
        order = OrderPlan(name, column, kind, raw_order.get("order") == "DESC")
    return SearchPlan(queries, filters, order, limit, after)
