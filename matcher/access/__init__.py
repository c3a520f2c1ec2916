"""Who may call: the business systems' API keys and scopes, the workbench's accounts and
sessions, rate limits.

May import: catalog, store, errors, observe.
"""
