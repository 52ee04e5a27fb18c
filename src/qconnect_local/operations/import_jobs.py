"""StartContentUpload, StartImportJob, Get/List/DeleteImportJob (owned by the import work)."""

from __future__ import annotations

OPERATIONS: dict = {}
