"""Extraction benchmark: speed, memory and field accuracy of each OCR engine on the test corpus.

    PYTHONPATH=. python tests/bench/extract.py [--per-kind 10 | --quick] [--engines a,b]

The parent writes the corpus (tests/extract/corpus.py) to a temporary folder: per sample the clean
render (PNG), a degraded scan (``degrade(level=2, seed=i)``, one JPEG-40 round trip) and the
born-digital PDF. Each engine then runs in its own child process, as one service worker would
(one engine, loaded once, warm before anything is timed), which:

1. extracts every clean and degraded file with ``Extractor.extract(file bytes)`` (decode,
   orientation check, OCR, document kind, fields) and compares each truth field with the field's
   normalised value under NFKC (a field whose check character is wrong on purpose still counts on
   its value: it must be read as printed);
2. on the licence (营业执照, A4 at 200 DPI) and ID-card front (居民身份证) files also times the raw
   engine call ``engine.recognise(image)`` on the same decoded pixels, interleaved with the
   service call, so the service/raw ratio compares like with like;
3. extracts every born-digital PDF and counts the OCR engine's calls meanwhile (must stay 0);
4. reports its peak RSS (``getrusage(RUSAGE_SELF).ru_maxrss``).

The parent prints per-engine figures beside the targets of issue 3 and names the engine that meets
more of them (the default recommendation).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from matcher.extract.kinds import load_doc_kinds
from matcher.extract.model import Extraction
from matcher.extract.pipeline import ExtractOptions, Extractor
from tests.extract.corpus import KINDS, as_jpeg, decode, degrade, make_samples

ROOT = Path(__file__).resolve().parents[2]

ENGINES = ("rapidocr", "paddleocr")
TIMED_KINDS = {"business_licence": "licence", "id_card_front": "ID card"}
VARIANTS = ("clean", "degraded")

# Targets for the default engine on 2 cores (issue 3, Acceptance).
LICENCE_S = 0.7
ID_CARD_S = 0.25
EXACT_CLEAN = 0.99
EXACT_DEGRADED = 0.97
SERVICE_RATIO = 1.1
RSS_BYTES = 1024**3
PDF_PAGE_S = 0.020


# ── corpus (parent) ─────────────────────────────────────────────────────────────────────────


def write_files(folder: Path, per_kind: int, seed: int, level: int) -> list[dict[str, Any]]:
    """Write clean PNG, degraded JPEG and born-digital PDF of every sample; return the index."""

    cases: list[dict[str, Any]] = []
    for kind in KINDS:
        for i, s in enumerate(make_samples(kind, per_kind, seed)):
            (folder / f"{s.name}.png").write_bytes(s.png_bytes)
            scan = degrade(s.image(), level, seed=i, jpeg_quality=None)
            (folder / f"{s.name}.jpg").write_bytes(as_jpeg(scan, quality=40, dpi=s.dpi))
            (folder / f"{s.name}.pdf").write_bytes(s.pdf_bytes)
            cases.append(
                {
                    "kind": kind,
                    "name": s.name,
                    "truth": s.truth,
                    "invalid_fields": sorted(s.invalid_fields),
                }
            )
    (folder / "index.json").write_text(json.dumps(cases, ensure_ascii=False), encoding="utf-8")
    return cases


# ── one engine (child) ──────────────────────────────────────────────────────────────────────


@dataclass
class Timing:
    kind: str
    variant: str
    raw_s: float
    service_s: float
    ocr_calls: int  # engine calls the service made for the page (orientation retries > 1)


@dataclass
class FieldResult:
    kind: str
    variant: str  # clean / degraded / pdf
    name: str
    expected: str
    got: str | None
    ok: bool


@dataclass
class PdfRun:
    kind: str
    pages: int
    seconds: float
    ocr_calls: int
    text_layer_pages: int


@dataclass
class ChildReport:
    engine: str
    load_s: float
    rss_before_load: int
    peak_rss: int
    timings: list[Timing] = field(default_factory=list)
    fields: list[FieldResult] = field(default_factory=list)
    recognised: dict[str, str | None] = field(default_factory=dict)  # "name variant" → kind
    pdfs: list[PdfRun] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class CallCounter:
    """Wraps an engine's ``recognise`` in place, so the service's own engine is counted too."""

    def __init__(self, engine: Any) -> None:
        self.calls = 0
        self._recognise: Callable[[Any], Any] = engine.recognise
        engine.recognise = self

    def __call__(self, image: Any) -> Any:
        self.calls += 1
        return self._recognise(image)


def _vm_rss() -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def _nfkc(value: str) -> str:
    return unicodedata.normalize("NFKC", value)


def _compare(
    case: dict[str, Any], variant: str, extraction: Extraction | None, report: ChildReport
) -> None:
    got: dict[str, str | None] = {}
    if extraction is not None:
        for f in extraction.fields:
            got.setdefault(f.name, f.normalised)
    for name, expected in case["truth"].items():
        value = got.get(name)
        ok = value is not None and _nfkc(value) == _nfkc(expected)
        report.fields.append(FieldResult(case["kind"], variant, name, expected, value, ok))


def run_child(engine_kind: str, corpus: Path, out: Path) -> None:
    cases: list[dict[str, Any]] = json.loads((corpus / "index.json").read_text(encoding="utf-8"))
    rss_before = _vm_rss()
    started = time.perf_counter()
    extractor = Extractor(load_doc_kinds(), ExtractOptions(ocr={"kind": engine_kind}))
    engine = extractor.engine  # the process's engine (get_engine), shared with the raw calls
    load_s = time.perf_counter() - started
    counter = CallCounter(engine)
    report = ChildReport(engine_kind, load_s, rss_before, 0)

    # Warm up: one raw call and one service call per timed kind, and one born-digital PDF.
    for kind in TIMED_KINDS:
        first = next(c for c in cases if c["kind"] == kind)
        data = (corpus / f"{first['name']}.png").read_bytes()
        engine.recognise(decode(data))
        extractor.extract(data)
    extractor.extract((corpus / f"{cases[0]['name']}.pdf").read_bytes())

    for n, case in enumerate(cases):
        for variant, suffix in (("clean", "png"), ("degraded", "jpg")):
            data = (corpus / f"{case['name']}.{suffix}").read_bytes()
            timed = case["kind"] in TIMED_KINDS
            image = decode(data) if timed else None
            raw_s = service_s = 0.0
            extraction: Extraction | None = None
            calls = 0
            # Alternate which call goes first so drift favours neither.
            for step in ("raw", "service") if n % 2 == 0 else ("service", "raw"):
                if step == "raw":
                    if image is None:
                        continue
                    t0 = time.perf_counter()
                    engine.recognise(image)
                    raw_s = time.perf_counter() - t0
                    continue
                before = counter.calls
                t0 = time.perf_counter()
                try:
                    extraction = extractor.extract(data)
                except Exception as exc:  # a benchmark reports failures, it does not stop
                    report.errors.append(f"{case['name']} {variant}: {exc!r}")
                service_s = time.perf_counter() - t0
                calls = counter.calls - before
            if timed:
                report.timings.append(Timing(case["kind"], variant, raw_s, service_s, calls))
            report.recognised[f"{case['name']} {variant}"] = (
                extraction.kind if extraction is not None else None
            )
            _compare(case, variant, extraction, report)
        print(f"  [{engine_kind}] {n + 1}/{len(cases)} {case['name']}", file=sys.stderr)

    for case in cases:
        data = (corpus / f"{case['name']}.pdf").read_bytes()
        before = counter.calls
        t0 = time.perf_counter()
        extraction = extractor.extract(data)
        seconds = time.perf_counter() - t0
        text_pages = sum(1 for p in extraction.pages if p.source == "text_layer")
        report.pdfs.append(
            PdfRun(
                case["kind"],
                len(extraction.pages),
                seconds,
                counter.calls - before,
                text_pages,
            )
        )
        _compare(case, "pdf", extraction, report)

    report.peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    out.write_text(json.dumps(asdict(report), ensure_ascii=False), encoding="utf-8")


# ── report (parent) ─────────────────────────────────────────────────────────────────────────


def _load_report(path: Path) -> ChildReport:
    d = json.loads(path.read_text(encoding="utf-8"))
    return ChildReport(
        engine=d["engine"],
        load_s=d["load_s"],
        rss_before_load=d["rss_before_load"],
        peak_rss=d["peak_rss"],
        timings=[Timing(**t) for t in d["timings"]],
        fields=[FieldResult(**f) for f in d["fields"]],
        recognised=d["recognised"],
        pdfs=[PdfRun(**p) for p in d["pdfs"]],
        errors=d["errors"],
    )


def _median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _rate(results: Sequence[FieldResult]) -> float:
    return sum(r.ok for r in results) / len(results) if results else float("nan")


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _mb(n: int) -> str:
    return f"{n / 1024**2:.0f} MB"


@dataclass
class Summary:
    engine: str
    licence_s: float
    id_s: float
    clean: float
    degraded: float
    ratio: float
    rss: int

    def checks(self) -> list[bool]:
        return [
            self.licence_s <= LICENCE_S,
            self.id_s <= ID_CARD_S,
            self.clean >= EXACT_CLEAN,
            self.degraded >= EXACT_DEGRADED,
            self.ratio <= SERVICE_RATIO,
            self.rss <= RSS_BYTES,
        ]


def summarise(r: ChildReport) -> Summary:
    def service(kind: str) -> float:
        return _median([t.service_s for t in r.timings if t.kind == kind])

    raw = sum(t.raw_s for t in r.timings)
    return Summary(
        engine=r.engine,
        licence_s=service("business_licence"),
        id_s=service("id_card_front"),
        clean=_rate([f for f in r.fields if f.variant == "clean"]),
        degraded=_rate([f for f in r.fields if f.variant == "degraded"]),
        ratio=sum(t.service_s for t in r.timings) / raw if raw else float("nan"),
        rss=r.peak_rss,
    )


def print_timing(reports: Sequence[ChildReport]) -> None:
    print("\nTiming, warm, median seconds per page (n = pages per row)")
    print("  raw = engine.recognise(decoded image); service = Extractor.extract(file bytes)")
    head = f"  {'engine':<10} {'page':<8} {'variant':<9} {'n':>3} {'raw s':>7} {'service s':>10}"
    print(head + f" {'ratio':>6} {'OCR calls/page':>15}")
    for r in reports:
        for kind, label in TIMED_KINDS.items():
            for variant in VARIANTS:
                ts = [t for t in r.timings if t.kind == kind and t.variant == variant]
                if not ts:
                    continue
                raw = _median([t.raw_s for t in ts])
                svc = _median([t.service_s for t in ts])
                calls = sum(t.ocr_calls for t in ts) / len(ts)
                print(
                    f"  {r.engine:<10} {label:<8} {variant:<9} {len(ts):>3} {raw:>7.3f}"
                    f" {svc:>10.3f} {svc / raw:>6.2f} {calls:>15.2f}"
                )
    print("  ratio = median service / median raw per row; the summary's ratio is total service")
    print("  time / total raw time over every timed page (orientation retries included).")


def print_accuracy(reports: Sequence[ChildReport], kinds: Sequence[str]) -> None:
    print("\nField exact match per kind (NFKC; normalised value == truth), clean / degraded")
    names = [r.engine for r in reports]
    print(f"  {'kind':<29} {'fields':>6}  " + "  ".join(f"{n:>21}" for n in names))
    for kind in kinds:
        cells = []
        total = 0
        for r in reports:
            clean = [f for f in r.fields if f.kind == kind and f.variant == "clean"]
            deg = [f for f in r.fields if f.kind == kind and f.variant == "degraded"]
            total = len(clean)
            wrong_kind = sum(
                1 for key, got in r.recognised.items() if key.startswith(kind + "_") and got != kind
            )
            note = f" k!{wrong_kind}" if wrong_kind else ""
            cells.append(f"{_pct(_rate(clean)):>6} / {_pct(_rate(deg)):>6}{note:>6}")
        print(f"  {kind:<29} {total:>6}  " + "  ".join(f"{c:>21}" for c in cells))
    print("  k!N = N files whose document kind was not recognised as this kind")


def print_mismatches(reports: Sequence[ChildReport]) -> None:
    for r in reports:
        bad = [f for f in r.fields if not f.ok and f.variant != "pdf"]
        print(f"\nMost frequent mismatches, {r.engine} ({len(bad)} wrong fields in clean+degraded)")
        groups = Counter((f.kind, f.name) for f in bad)
        for (kind, name), count in groups.most_common(5):
            ex = [f for f in bad if f.kind == kind and f.name == name]
            n_clean = sum(1 for f in ex if f.variant == "clean")
            sample = next((f for f in ex if f.variant == "clean"), ex[0])
            print(
                f"  {count:>3}x ({n_clean} clean) {kind}.{name}: "
                f"expected {sample.expected!r}, got {sample.got!r}"
            )
        if not groups:
            print("  none")


def print_pdfs(reports: Sequence[ChildReport]) -> bool:
    print("\nBorn-digital PDFs (text layer, no OCR)")
    ok_all = True
    for r in reports:
        per_page = [p.seconds / p.pages for p in r.pdfs if p.pages]
        pages = sum(p.pages for p in r.pdfs)
        calls = sum(p.ocr_calls for p in r.pdfs)
        text_pages = sum(p.text_layer_pages for p in r.pdfs)
        med = _median(per_page)
        worst = max(per_page) if per_page else float("nan")
        acc = _rate([f for f in r.fields if f.variant == "pdf"])
        ok = calls == 0 and text_pages == pages and med <= PDF_PAGE_S
        wrong = [f for f in r.fields if f.variant == "pdf" and not f.ok]
        ok_all = ok_all and ok
        print(
            f"  {r.engine:<10} {pages} pages: median {1000 * med:.1f} ms/page (max "
            f"{1000 * worst:.1f}; target ≤ {1000 * PDF_PAGE_S:.0f} ms) — OCR engine calls: "
            f"{calls} (must be 0), text-layer pages {text_pages}/{pages}, "
            f"field exact match {_pct(acc)} — {'ok' if ok else 'MISS'}"
        )
        for f in wrong[:5]:
            print(f"    text layer mismatch {f.kind}.{f.name}: {f.expected!r} → {f.got!r}")
    return ok_all


def print_summary(summaries: Sequence[Summary], reports: Sequence[ChildReport]) -> None:
    print(f"\nSummary against the targets (default engine, {_cores()} cores)")
    width = 22
    print(f"  {'':<34} {'target':>8}  " + "  ".join(f"{s.engine:>{width}}" for s in summaries))

    def row(label: str, target: str, values: list[str], idx: int) -> None:
        cells = [
            f"{v} {'ok' if s.checks()[idx] else 'MISS'}"
            for v, s in zip(values, summaries, strict=True)
        ]
        print(f"  {label:<34} {target:>8}  " + "  ".join(f"{c:>{width}}" for c in cells))

    row(
        "licence page s/page (service)",
        f"≤ {LICENCE_S}",
        [f"{s.licence_s:.3f}" for s in summaries],
        0,
    )
    row("ID card s/page (service)", f"≤ {ID_CARD_S}", [f"{s.id_s:.3f}" for s in summaries], 1)
    row("field exact match, clean", "≥ 99%", [_pct(s.clean) for s in summaries], 2)
    row("field exact match, degraded", "≥ 97%", [_pct(s.degraded) for s in summaries], 3)
    row("service / raw engine time", f"≤ {SERVICE_RATIO}", [f"{s.ratio:.3f}" for s in summaries], 4)
    row("peak RSS per worker", "≤ 1 GB", [_mb(s.rss) for s in summaries], 5)
    met = [sum(s.checks()) for s in summaries]
    print(f"  {'targets met':<34} {'':>8}  " + "  ".join(f"{f'{m}/6':>{width}}" for m in met))
    for r in reports:
        print(
            f"  {r.engine}: engine load {r.load_s:.2f} s, RSS before load "
            f"{_mb(r.rss_before_load)}, errors {len(r.errors)}"
        )
        for e in r.errors[:5]:
            print(f"    {e}")


def _cores() -> int:
    return len(os.sched_getaffinity(0))


def recommend(summaries: Sequence[Summary]) -> str:
    """The engine meeting the most targets; ties go to the faster licence page."""
    best = min(summaries, key=lambda s: (-sum(s.checks()), s.licence_s))
    others = ", ".join(f"{s.engine} {sum(s.checks())}/6" for s in summaries if s is not best)
    return (
        f"default: {best.engine} — meets {sum(best.checks())}/6 targets"
        + (f" (vs {others})" if others else "")
        + ("" if all(best.checks()) else "; it does not meet them all")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-kind", type=int, default=10, help="samples per document kind")
    parser.add_argument("--quick", action="store_true", help="3 samples per kind")
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated kinds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--level", type=int, default=2, choices=(1, 2, 3), help="degrade level")
    parser.add_argument("--save", type=Path, help="also keep each engine's raw results (JSON) here")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--engine", help=argparse.SUPPRESS)
    parser.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        run_child(args.engine, args.corpus, args.out)
        return

    per_kind = 3 if args.quick else args.per_kind
    load = os.getloadavg()[0]
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    started = time.perf_counter()
    print(
        f"Extraction benchmark: {len(KINDS)} kinds × {per_kind} samples, clean PNG + degraded "
        f"JPEG (level {args.level}, quality 40), seed {args.seed}; {_cores()} cores; "
        f"engines {', '.join(engines)} (each in its own process, 2 ONNX Runtime threads)"
    )
    if load > 0.5:
        print(f"warning: load average {load:.2f} before the run: timings may be inflated")
    reports: list[ChildReport] = []
    with tempfile.TemporaryDirectory(prefix="bench-extract-") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        write_files(folder, per_kind, args.seed, args.level)
        print(f"corpus written in {time.perf_counter() - t0:.1f} s", flush=True)
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        }
        for engine in engines:
            out = folder / f"{engine}.json"
            t0 = time.perf_counter()
            cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "--engine", engine]
            cmd += ["--corpus", str(folder), "--out", str(out)]
            proc = subprocess.run(cmd, env=env, cwd=ROOT, check=False)
            if proc.returncode != 0 or not out.exists():
                print(f"{engine}: child failed with exit code {proc.returncode}", flush=True)
                continue
            print(f"{engine}: done in {time.perf_counter() - t0:.1f} s", flush=True)
            reports.append(_load_report(out))
            if args.save is not None:
                args.save.mkdir(parents=True, exist_ok=True)
                (args.save / out.name).write_bytes(out.read_bytes())
    if not reports:
        sys.exit("no engine ran")

    summaries = [summarise(r) for r in reports]
    print_timing(reports)
    print_accuracy(reports, KINDS)
    print_mismatches(reports)
    print_pdfs(reports)
    print_summary(summaries, reports)
    print(
        f"\ntotal {time.perf_counter() - started:.0f} s; load average before {load:.2f}, "
        f"after {os.getloadavg()[0]:.2f} (the run itself keeps 2 cores busy)"
    )
    print(recommend(summaries))


if __name__ == "__main__":
    main()
