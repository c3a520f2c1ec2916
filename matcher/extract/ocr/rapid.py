"""RapidOCR: the PP-OCR models shipped inside the ``rapidocr`` wheel, run by OpenVINO (the default)
or ONNX Runtime.

OpenVINO reads the same ONNX files; on the 2-core x86 test host it ran detection and recognition
about twice as fast as ONNX Runtime with the same text out (docs/ocr.md has the figures).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from matcher.extract.model import TextLine
from matcher.extract.ocr.base import Image, OcrOptions, SerialEngine, import_library
from matcher.extract.ocr.models import packaged_models
from matcher.extract.ocr.parse import lines_from_rapid

__all__ = ["INSTALL", "RapidOcrEngine", "RapidOcrOptions"]

INSTALL = "pip install 'rapidocr==3.10.*' onnxruntime openvino"

Runtime = Literal["openvino", "onnxruntime"]


class RapidOcrOptions(OcrOptions):
    kind: Literal["rapidocr"] = "rapidocr"
    runtime: Runtime = Field(
        "openvino",
        description="what runs the models: OpenVINO (faster on x86 CPUs) or ONNX Runtime",
    )


def rapid_params(options: RapidOcrOptions, rapidocr: Any = None) -> dict[str, Any]:
    """RapidOCR's config overrides for these options (``rapidocr``: the imported module, needed
    for the OpenVINO runtime)."""
    params: dict[str, Any] = {
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
    if options.runtime == "openvino":
        if rapidocr is None:
            raise ValueError("the OpenVINO runtime needs the rapidocr module")
        # RapidOCR would download OpenVINO's models; it is given the wheel's ONNX files instead.
        for part, path in zip(("Det", "Rec"), packaged_models(), strict=True):
            params[f"{part}.engine_type"] = rapidocr.EngineType.OPENVINO
            params[f"{part}.model_path"] = str(path)
        params["EngineConfig.openvino.inference_num_threads"] = options.threads
    return params


# OpenVINO's CPU plugin keeps compiled kernels for every input shape it has met (5000 by default);
# detection and recognition see a new shape with almost every page and line batch. Keeping none
# took ~180 MB off a worker's peak for ~10% more time (docs/ocr.md); RapidOCR's config has no key
# for it, so its OpenVINO CPU settings are extended here.
OPENVINO_CPU_SETTINGS = {"CPU_RUNTIME_CACHE_CAPACITY": "0"}


def _bound_openvino_kernel_cache() -> None:
    from rapidocr.inference_engine.openvino import device_config

    config_class: Any = device_config.CPUConfig
    if getattr(config_class, "_matcher_settings", False):
        return
    rapidocr_config = config_class.get_config

    def get_config(self: Any) -> dict[str, Any]:
        return {**rapidocr_config(self), **OPENVINO_CPU_SETTINGS}

    config_class.get_config = get_config
    config_class._matcher_settings = True


class RapidOcrEngine(SerialEngine):
    kind: ClassVar[str] = "rapidocr"
    options_model: ClassVar[type[OcrOptions]] = RapidOcrOptions

    def __init__(self, options: RapidOcrOptions) -> None:
        super().__init__()
        self.options = options
        rapidocr = import_library(
            "rapidocr", f"the 'rapidocr' OCR engine needs RapidOCR: {INSTALL}"
        )
        if options.runtime == "openvino":
            import_library("openvino", f"the OpenVINO runtime of 'rapidocr' needs it: {INSTALL}")
            _bound_openvino_kernel_cache()
        self._ocr = rapidocr.RapidOCR(params=rapid_params(options, rapidocr))

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
