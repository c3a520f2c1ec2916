"""Batch audits: material lists (材料清单审计) and past applications (多收材料审计).

May import: wiring, settings, the domain packages, catalog, store, errors.
"""
