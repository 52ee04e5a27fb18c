"""The SQL both stores share, written once: one mixin per concern, each asking its session's
`Dialect` (storage/dialect.py) for what is spelled differently. A store's session class is these
mixins plus its own quick-response writes, bulk loader and search executor."""
