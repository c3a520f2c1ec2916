"""RapidOCR: ONNX Runtime running the PP-OCR models shipped inside the ``rapidocr`` wheel."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np

from matcher.extract.model import TextLine
from matcher.extract.ocr.base import Image, OcrOptions, SerialEngine, import_library
from matcher.extract.ocr.parse import lines_from_rapid

__all__ = ["INSTALL", "RapidOcrEngine", "RapidOcrOptions"]

INSTALL = "pip install 'rapidocr==3.10.*' onnxruntime"


class RapidOcrOptions(OcrOptions):
    kind: Literal["rapidocr"] = "rapidocr"


def rapid_params(options: RapidOcrOptions) -> dict[str, Any]:
    """RapidOCR's config overrides for these options."""
    return {
        "Global.log_level": "error",  # not a warning for every blank page
        # Orientation is decided per page (orient.py); a per-line 180° flip would leave the boxes
        # of an upside-down page in upside-down order.
        "Global.use_cls": False,
        "Global.text_score": options.min_confidence,
        "EngineConfig.onnxruntime.intra_op_num_threads": options.threads,
        "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        # The arena keeps the largest page's buffers for good: ~2x the peak RSS.
        "EngineConfig.onnxruntime.enable_cpu_mem_arena": False,
        "Det.limit_side_len": options.det_limit_side_len,
        "Det.limit_type": "max",
    }


class RapidOcrEngine(SerialEngine):
    kind: ClassVar[str] = "rapidocr"
    options_model: ClassVar[type[OcrOptions]] = RapidOcrOptions

    def __init__(self, options: RapidOcrOptions) -> None:
        super().__init__()
        self.options = options
        rapidocr = import_library(
            "rapidocr", f"the 'rapidocr' OCR engine needs RapidOCR: {INSTALL}"
        )
        self._ocr = rapidocr.RapidOCR(params=rapid_params(options))

    def _recognise(self, image: Image) -> list[TextLine]:
        bgr = np.ascontiguousarray(image[:, :, ::-1])  # RapidOCR takes arrays as OpenCV BGR
        # RapidOCR takes the detection side only in its config, which builds the detector on first
        # use; the detector then reads its attribute on every call. Calls are serialised
        # (SerialEngine), so setting it per image is safe.
        side = self.options.det_side(image.shape[1], image.shape[0])
        detector: Any = self._ocr.text_det
        if detector is None:
            self._ocr.cfg.Det.limit_side_len = side
        else:
            detector.limit_side_len = side
        out: Any = self._ocr(bgr)  # RapidOCROutput when detection and recognition are on
        raw = {"boxes": out.boxes, "txts": out.txts, "scores": out.scores}
        return lines_from_rapid(raw, width=image.shape[1], height=image.shape[0])
