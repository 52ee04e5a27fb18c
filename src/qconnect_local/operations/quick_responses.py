"""Quick responses: Create/Get/Update/Delete/List/SearchQuickResponses (owned by the quick-response work)."""

from __future__ import annotations

OPERATIONS: dict = {}
