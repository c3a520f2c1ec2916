"""``matcher catalog report``: per matter, what an applicant the registries know still brings
and types (申请零材料, 填报零字段)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

__all__ = ["_add_catalog_commands"]


def _add_catalog_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("catalog", help="the matters' catalog")
    actions = p.add_subparsers(dest="action", required=True)
    a = actions.add_parser(
        "report",
        help="per matter: materials, what an applicant known to the registries still brings, "
        "form fields, and how many the registries fill",
    )
    a.add_argument("--json", action="store_true", help="one JSON document instead of a table")
    a.add_argument("--config", type=Path, default=None)
    a.set_defaults(func=_report)


def _report(args: argparse.Namespace) -> int:
    from matcher.applications.coverage import coverage
    from matcher.applications.forms import load_forms
    from matcher.catalog.matters import load_catalog
    from matcher.extract.kinds import load_doc_kinds
    from matcher.settings import load_settings

    settings = load_settings(args.config)
    catalog = load_catalog(settings.catalog)
    forms = load_forms(settings.forms, doc_kinds=load_doc_kinds(settings.doc_kinds))
    rows = coverage(catalog, forms)
    if args.json:
        print(json.dumps([r.as_dict() for r in rows], ensure_ascii=False, indent=2))
        return 0
    head = f"{'matter':<28} {'materials':>9} {'waived':>6} {'window':>6} {'bring':>5} "
    head += f"{'situat.':>7} {'fields':>6} {'filled':>6} {'request':>7} {'typed':>5}  name"
    print(head)
    for r in rows:
        print(
            f"{r.code:<28} {r.materials:>9} {r.waived_on_records:>6} {r.obtained_by_window:>6} "
            f"{len(r.to_bring):>5} {r.situational:>7} {r.fields:>6} {r.filled_by_registries:>6} "
            f"{r.from_request:>7} {len(r.typed):>5}  {r.name}"
        )
    zero_m = sum(r.zero_materials for r in rows)
    zero_f = sum(r.zero_fields for r in rows)
    with_form = sum(r.form is not None for r in rows)
    print(
        f"\n{len(rows)} matters: {zero_m} ask an applicant the registries know for no material "
        f"(申请零材料); {with_form} have a form, {zero_f} of them need no typed field (填报零字段)"
    )
    for r in rows:
        if r.to_bring or r.typed:
            brings = "、".join(r.to_bring) or "—"
            types = "、".join(r.typed) or "—"
            print(f"  {r.code}: brings {brings}; types {types}")
    return 0
