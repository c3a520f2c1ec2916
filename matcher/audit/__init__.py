"""Batch audits: material lists (材料清单审计) and past applications (多收材料审计)."""
