"""A waive-check as its stages — plan, gather (cache, registries, uploads), judge (verify,
decide: the safety rule), record — and the cache and the re-check queue around them.

May import: applications (pre-fill's records), problems, extract, catalog, store, errors,
observe; the adapters' interface.
"""
