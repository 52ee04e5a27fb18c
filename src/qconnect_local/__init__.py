"""qconnect-local: a local, API-compatible Amazon Q in Connect (quick responses)."""

__version__ = "0.1.0"

# The test and scripting helpers, imported on first use so `import qconnect_local` stays light.
_LAZY = {
    "mock_qconnect": "qconnect_local.mock",
    "patch_client": "qconnect_local.mock",
    "wait_for_import_job": "qconnect_local.waiters",
    "import_job_waiter": "qconnect_local.waiters",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'qconnect_local' has no attribute {name!r}")
