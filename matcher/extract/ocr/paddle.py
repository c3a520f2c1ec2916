"""PaddleOCR 3.x on ONNX Runtime (no paddlepaddle), with local PP-OCR model folders only."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Any, ClassVar, Literal

from matcher.extract.model import TextLine
from matcher.extract.ocr.base import Image, OcrOptions, SerialEngine, import_library
from matcher.extract.ocr.models import build_model_dirs
from matcher.extract.ocr.parse import lines_from_paddle

__all__ = ["INSTALL", "PaddleOcrEngine", "PaddleOcrOptions"]

# paddlex pins the GUI OpenCV: from a checkout, deps/opencv-headless-shim in the same command
# keeps the headless one (README, "Install for production").
INSTALL = "pip install 'matcher[paddle]'"


class PaddleOcrOptions(OcrOptions):
    kind: Literal["paddleocr"] = "paddleocr"
    work_dir: Path | None = None
    """Writable folder for the model folders and PaddleX's cache; default: a per-user temp dir."""


def default_work_dir() -> Path:
    return Path(tempfile.gettempdir()) / f"matcher-ocr-{os.getuid()}"


def paddle_kwargs(options: PaddleOcrOptions, work_dir: Path) -> dict[str, Any]:
    """PaddleOCR's constructor arguments for these options (model folders built if needed)."""
    dirs = build_model_dirs(work_dir / "models")
    return {
        "text_detection_model_name": dirs.det_name,
        "text_detection_model_dir": str(dirs.det_dir),
        "text_recognition_model_name": dirs.rec_name,
        "text_recognition_model_dir": str(dirs.rec_dir),
        # Page orientation is decided by orient.py for every engine; these need more models.
        "use_doc_orientation_classify": False,
        "use_doc_unwarping": False,
        "use_textline_orientation": False,
        "device": "cpu",
        "engine": "onnxruntime",
        "engine_config": {
            "intra_op_num_threads": options.threads,
            "inter_op_num_threads": 1,
            # The arena keeps the largest page's buffers for good: ~3x the peak RSS.
            "enable_cpu_mem_arena": False,
        },
        "text_det_limit_side_len": options.det_limit_side_len,
        "text_det_limit_type": "max",
        "text_rec_score_thresh": options.min_confidence,
    }


def _import_paddleocr(work_dir: Path) -> Any:
    # PaddleX reads these when first imported: its cache goes to our folder, not ~/.paddlex, and it
    # skips probing the model hubs (it is only ever given local folders).
    os.environ.setdefault("PADDLE_PDX_CACHE_HOME", str(work_dir / "paddlex"))
    os.environ["PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK"] = "True"
    # PaddleX imports matplotlib when it is installed (the audit reports and the data-problem
    # assessment use it): its font cache goes to our folder too, not ~/.cache/matplotlib.
    os.environ.setdefault("MPLCONFIGDIR", str(work_dir / "matplotlib"))
    paddleocr = import_library(
        "paddleocr", f"the 'paddleocr' OCR engine needs PaddleOCR: {INSTALL}", "paddle"
    )
    logging.getLogger("paddlex").setLevel(logging.WARNING)  # "Creating model: …" at every start
    return paddleocr.PaddleOCR


class PaddleOcrEngine(SerialEngine):
    kind: ClassVar[str] = "paddleocr"
    options_model: ClassVar[type[OcrOptions]] = PaddleOcrOptions
    extra: ClassVar[str] = "paddle"
    requires: ClassVar[tuple[str, ...]] = (
        "numpy",
        "paddleocr",
        "paddlex",
        "onnxruntime",
        "rapidocr",
    )

    def __init__(self, options: PaddleOcrOptions) -> None:
        super().__init__()
        self.options = options
        work_dir = options.work_dir or default_work_dir()
        paddle_ocr = _import_paddleocr(work_dir)
        import_library(
            "rapidocr",
            f"the 'paddleocr' engine takes its models from rapidocr: {INSTALL}",
            "paddle",
        )
        self._ocr = paddle_ocr(**paddle_kwargs(options, work_dir))

    def _recognise(self, image: Image) -> list[TextLine]:
        import numpy as np

        bgr = np.ascontiguousarray(image[:, :, ::-1])  # PaddleOCR takes arrays as OpenCV BGR
        side = self.options.det_side(image.shape[1], image.shape[0])
        results = self._ocr.predict(bgr, text_det_limit_side_len=side)
        if not results:
            return []
        return lines_from_paddle(results[0], width=image.shape[1], height=image.shape[0])
