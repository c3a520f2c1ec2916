"""The optional parts of an install (pip extras): which are here, and one clear error for a part
that is not. Nothing here imports an optional library; it only looks for it."""

from __future__ import annotations

from importlib.util import find_spec
from typing import Any

from matcher.errors import FeatureUnavailable

__all__ = ["charts_available", "installed_parts", "require_charts"]

CHARTS_EXTRA = "reports"


def charts_available() -> bool:
    """matplotlib is installed (``matcher[reports]``): charts can be drawn as images."""
    return find_spec("matplotlib") is not None


def require_charts(what: str) -> None:
    """Raise FeatureUnavailable (→ 501) naming the extra, unless charts can be drawn."""
    if not charts_available():
        raise FeatureUnavailable(
            f"{what}需要图表组件 matplotlib，本服务未安装；"
            f"请安装：pip install 'matcher[{CHARTS_EXTRA}]'",
            extra=CHARTS_EXTRA,
        )


def installed_parts(ocr_engine: str) -> dict[str, Any]:
    """What /readyz and ``matcher check-config`` say of the optional parts."""
    from matcher.extract.ocr.base import engine_status

    engines = {
        kind: "available" if missing is None else f"missing: {missing}"
        for kind, missing in engine_status().items()
    }
    return {
        "ocr_engine": ocr_engine,
        "ocr_engines": engines,
        "charts": (
            "available" if charts_available() else f"missing: pip install 'matcher[{CHARTS_EXTRA}]'"
        ),
    }
