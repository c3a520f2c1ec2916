"""Durable records: one module per domain's tables (checks and usage, data problems,
applications, files, accounts, keys, re-checks), the recorder (group commit), the usage chain,
sealing, migrations.

May import: errors, observe (and nothing above it: a service that must tell another is
handed it as an argument).
"""
