"""The NAME EQUALS search filters of SearchSessions and SearchContent (the only kind the model has)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

Row = TypeVar("Row")


def by_name(
    names: Iterable[str] | None, fetch: Callable[[str | None, int, int], list[Row]]
) -> Callable[[int, int], list[Row]]:
    """A page fetcher for `fetch(name, after, limit)`: filters are ANDed, so two different names
    match nothing and no filter matches everything."""
    wanted = set(names or ())

    def page(after: int, limit: int) -> list[Row]:
        if len(wanted) > 1:
            return []
        return fetch(next(iter(wanted), None), after, limit)

    return page
