"""``matcher extract``: read document kinds and fields from files."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from matcher.errors import MatcherError


def _extract(args: argparse.Namespace) -> int:
    from matcher.api.extract import extraction_out
    from matcher.extract.kinds import load_doc_kinds
    from matcher.extract.pipeline import ExtractOptions, Extractor
    from matcher.settings import load_settings
    from matcher.wiring import ocr_options

    settings = load_settings(args.config)
    if args.engine:
        settings = settings.model_copy(update={"ocr_engine": args.engine})
    extractor = Extractor(
        load_doc_kinds(settings.doc_kinds), ExtractOptions(ocr=ocr_options(settings))
    )
    status = 0
    results = []
    for path in args.files:
        try:
            result = extractor.extract(
                Path(path).read_bytes(), filename=Path(path).name, expected_kind=args.kind
            )
        except (OSError, MatcherError) as exc:
            print(f"matcher: {path}: {exc}", file=sys.stderr)
            status = 2
            continue
        out = extraction_out(result).model_dump(mode="json")
        if args.format == "json":
            results.append({"file": str(path), **out})
            continue
        print(f"== {path}: {out['kind_name'] or '未识别'} ({out['kind'] or '-'})")
        for f in out["fields"]:
            mark = "✓" if f["valid"] else "✗"
            shown = f["normalised"] if f["normalised"] is not None else f["value"]
            note = f"  ← {f['reason']}" if f["reason"] else ""
            print(f"  {mark} {f['label']:<10} {shown}  ({f['confidence']:.2f}, p{f['page']}){note}")
        for w in out["warnings"]:
            print(f"  ! {w}")
    if args.format == "json":
        print(json.dumps(results, ensure_ascii=False, indent=2))
    return status
