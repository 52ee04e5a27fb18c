"""The tables the search executors run a SearchPlan on (storage/sqlite/search/, postgres/search.py).

Quick responses and message templates share one search engine: each searchable resource is a
table whose filter, order and query fields are real columns named as in its field table
(search/plan.py), a knowledge-base column, and per store its index (SQLite: an external-content
FTS5 table with an `exact_keys` column and a narrow (seq, kb, name) index; PostgreSQL:
`search_words`/`exact_words` tsvectors and a table of every word indexed, for allowFuzziness).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from qconnect_local.search.plan import list_sort_value

Record = dict[str, Any]


@dataclass(frozen=True)
class SearchTable:
    table: str
    kb: str  # the knowledge base's seq
    fts: str  # SQLite: the FTS5 index
    seq_name_index: str  # SQLite: the narrow (seq, kb, name) index
    index_state: str  # SQLite: the one-row table of the index token (search/vocabulary.py)
    words: str  # PostgreSQL: every word ever indexed (allowFuzziness)
    text_columns: tuple[str, ...]  # the searchable text columns, in FTS column order
    not_null: frozenset[str]  # order columns that are never NULL (an index can serve the order)
    # Columns besides name with an index on (kb, column, name) (storage/sql/search_order.py).
    index_columns: tuple[str, ...] = ()


QUICK_RESPONSES = SearchTable(
    table="quick_responses",
    kb="kb",
    fts="quick_responses_fts",
    seq_name_index="quick_responses_seq_name",
    index_state="quick_responses_index_state",
    words="quick_response_words",
    text_columns=("name", "shortcut_key", "description", "content"),
    not_null=frozenset({"name", "content_type", "is_active", "created_time", "modified_time"}),
    index_columns=(
        "description",
        "shortcut_key",
        "is_active",
        "channels",
        "language",
        "content_type",
        "created_time",
        "modified_time",
        "modified_by",
        "grouping_criteria",
        "grouping_values",
    ),
)
# A message template's search columns (migration 402), in this order after `name`.
TEMPLATE_COLUMNS = (
    "description",
    "channel",
    "channel_subtype",
    "language",
    "qualifiers",
    "created_time",
    "modified_time",
    "modified_by",
    "grouping_criteria",
    "grouping_values",
)

MESSAGE_TEMPLATES = SearchTable(
    table="message_templates",
    kb="kb_seq",
    fts="message_templates_fts",
    seq_name_index="message_templates_seq_name",
    index_state="message_templates_index_state",
    words="message_template_words",
    text_columns=("name", "description"),
    # Every template has both times (the columns allow NULL only because a migration added them).
    not_null=frozenset({"name", "created_time", "modified_time"}),
    index_columns=TEMPLATE_COLUMNS,  # migration 403: an index on each
)


def template_columns(record: Record) -> tuple[Any, ...]:
    """The values of TEMPLATE_COLUMNS for a template's `$LATEST` record. `qualifiers` holds the
    qualifiers that reach the draft: `$LATEST`, and `$ACTIVE_VERSION` when a version is active."""
    grouping = record.get("groupingConfiguration") or {}
    qualifiers = ["$LATEST"] + (["$ACTIVE_VERSION"] if record.get("activeVersionNumber") else [])
    return (
        record.get("description"),
        record.get("channel"),
        record.get("channelSubtype"),
        record.get("language"),
        list_sort_value(qualifiers),
        record.get("createdTime"),
        record.get("lastModifiedTime"),
        record.get("lastModifiedBy"),
        grouping.get("criteria"),
        list_sort_value(grouping.get("values")),
    )
