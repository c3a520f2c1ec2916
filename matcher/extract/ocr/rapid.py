"""RapidOCR: the PP-OCR models shipped inside the ``rapidocr`` wheel, run by OpenVINO (the default)
or ONNX Runtime.

OpenVINO reads the same ONNX files; on the 2-core x86 test host it ran detection and recognition
about twice as fast as ONNX Runtime with the same text out (docs/ocr.md has the figures).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from matcher.extract.model import TextLine
from matcher.extract.ocr.base import Image, OcrOptions, SerialEngine, import_library
from matcher.extract.ocr.models import packaged_models
from matcher.extract.ocr.parse import lines_from_rapid

__all__ = ["INSTALL", "RapidOcrEngine", "RapidOcrOptions"]

INSTALL = "pip install 'matcher[ocr]'"

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


# OpenVINO's CPU plugin settings, added to RapidOCR's (its config has no key for them):
# - f32: on CPUs with AVX-512 BF16 but no AMX the plugin picks bf16 by default, and the recogniser
#   ran ~1.7x slower in it (docs/ocr.md); f32 is also the precision the models were trained in.
# - a bounded kernel cache: the plugin keeps compiled kernels for every input shape it meets (5000
#   by default), which held a worker at 1.32 GB over the test corpus. Recognition widths are
#   rounded up to REC_WIDTH_STEP, so line batches fall into a few dozen shapes a small cache
#   holds; a shape met for the first time costs about twice a known one.
OPENVINO_CPU_SETTINGS = {"CPU_RUNTIME_CACHE_CAPACITY": "64", "INFERENCE_PRECISION_HINT": "f32"}
REC_WIDTH_STEP = 64  # pixels, at the recogniser's 48-pixel line height


def _openvino_cpu_settings() -> None:
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
    extra: ClassVar[str] = "ocr"
    requires: ClassVar[tuple[str, ...]] = ("numpy", "rapidocr", "cv2")

    def __init__(self, options: RapidOcrOptions) -> None:
        super().__init__()
        self.options = options
        rapidocr = import_library(
            "rapidocr", f"the 'rapidocr' OCR engine needs RapidOCR: {INSTALL}"
        )
        if options.runtime == "openvino":
            import_library("openvino", f"the OpenVINO runtime of 'rapidocr' needs it: {INSTALL}")
            _openvino_cpu_settings()
        self._ocr = rapidocr.RapidOCR(params=rapid_params(options, rapidocr))
        self._cv2: Any = import_library("cv2", f"RapidOCR needs OpenCV: {INSTALL}")

    def _recognise(self, image: Image) -> list[TextLine]:
        # RapidOCR takes arrays as OpenCV BGR; OpenCV swaps an A4 page's channels in ~0.5 ms,
        # numpy's reversed copy took ~13 ms.
        import numpy as np

        bgr = self._cv2.cvtColor(np.ascontiguousarray(image), self._cv2.COLOR_RGB2BGR)
        # RapidOCR takes the detection side only in its config, which builds the detector on first
        # use; the detector then reads its attribute on every call. Calls are serialised
        # (SerialEngine), so setting it per image is safe.
        side = self.options.det_side(image.shape[1], image.shape[0])
        detector: Any = self._ocr.text_det
        if detector is None:
            self._ocr.cfg.Det.limit_side_len = side
        else:
            detector.limit_side_len = side
        _round_rec_widths(self._ocr._load_rec_model())  # RapidOCR builds it on first use
        out: Any = self._ocr(bgr)  # RapidOCROutput when detection and recognition are on
        raw = {"boxes": out.boxes, "txts": out.txts, "scores": out.scores}
        return lines_from_rapid(raw, width=image.shape[1], height=image.shape[0])


def _round_rec_widths(recogniser: Any) -> None:
    """Pad each batch of lines to a width that is a multiple of REC_WIDTH_STEP (the batch is
    padded to its widest line anyway; this adds at most one step), so that OpenVINO meets the
    same few input shapes again instead of compiling kernels for a new one nearly every batch."""
    if getattr(recogniser, "_matcher_rounded", False):
        return
    resize = recogniser.resize_norm_img
    height = int(recogniser.rec_image_shape[1])

    def resize_norm_img(img: Any, max_wh_ratio: float) -> Any:
        width = -(-int(height * max_wh_ratio) // REC_WIDTH_STEP) * REC_WIDTH_STEP
        return resize(img, width / height)

    recogniser.resize_norm_img = resize_norm_img
    recogniser._matcher_rounded = True
