"""The rest-json protocol, driven by botocore's qconnect service model.

Everything here is the same for every operation: routing, parsing, validation, serialization and
the wire form of errors. Operations never see HTTP.
"""
