"""The import pipeline: the CSV format, the job runner and the failed-record report.

- `csv_format`: headers, aliases, a row -> CreateQuickResponse input, file-level problems.
- `rules`: CreateQuickResponse's own checks, applied to each row.
- `job`: one job, checked outside the write lock and landed in one transaction.
- `runner`: the background thread that claims jobs with a lease and recovers them after a crash.
- `report`: the failed-record report.
- `routing_profiles`: routing-profile names -> ARNs (local directory, or Amazon Connect).
- `endpoints`: the `/_qconnect/` upload/download/run/directory endpoints and the wiring.
- `options`: the `serve` command-line options.
"""
