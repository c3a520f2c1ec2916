"""The adapter developer's tools (a job): the scaffold of a new adapter package, and the
``matcher adapters`` checks of configured registries.

May import: wiring, settings, waiver (evidence), catalog, errors; adapters.
"""
