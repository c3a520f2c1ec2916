"""Record the raw output of each OCR engine on the test images, for the parser tests.

Run from the repository root: ``python tests/extract/ocr_recordings/record.py``. The files are
committed; re-record only when an engine's output format changes.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from matcher.extract.ocr.orient import turn
from matcher.extract.ocr.paddle import PaddleOcrEngine, PaddleOcrOptions
from matcher.extract.ocr.rapid import RapidOcrEngine, RapidOcrOptions
from matcher.extract.ocr.testing import id_card_image, licence_image

HERE = Path(__file__).resolve().parent


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def main() -> int:
    images = {
        "licence": licence_image(),
        "licence_180": turn(licence_image(), 180),
        "id_card": id_card_image(),
        "blank": np.full((400, 600, 3), 255, dtype=np.uint8),
    }
    rapid = RapidOcrEngine(RapidOcrOptions())
    paddle = PaddleOcrEngine(PaddleOcrOptions())

    def raw_rapid(bgr: np.ndarray) -> dict[str, Any]:
        out: Any = rapid._ocr(bgr)
        return {"boxes": out.boxes, "txts": out.txts, "scores": out.scores}

    def raw_paddle(bgr: np.ndarray) -> dict[str, Any]:
        res = paddle._ocr.predict(bgr)[0]
        return {k: res[k] for k in ("rec_polys", "rec_texts", "rec_scores")}

    engines: dict[str, tuple[str, Callable[[np.ndarray], dict[str, Any]]]] = {
        "rapidocr": ("rapidocr", raw_rapid),
        "paddleocr": ("paddleocr", raw_paddle),
    }
    for kind, (package, run) in engines.items():
        for name, image in images.items():
            raw = run(np.ascontiguousarray(image[:, :, ::-1]))
            record = {
                "engine": kind,
                "engine_version": version(package),
                "image": {"name": name, "width": image.shape[1], "height": image.shape[0]},
                "raw": {k: _plain(v) for k, v in raw.items()},
            }
            path = HERE / f"{kind}_{name}.json"
            path.write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
