"""PP-OCR model folders for PaddleOCR, built from the ONNX models inside the ``rapidocr`` wheel.

PaddleOCR loads a local folder holding ``inference.onnx`` and an ``inference.yml`` whose
``Global.model_name`` matches the name it is given; with no folder it goes to the network, which
the service never allows. The pre/post-processing below is PaddleX's own for these models; the
recogniser's dictionary is read from the ONNX file's ``character`` metadata, so it always matches
the model. Building takes ~0.2 s and is kept in ``cache_dir`` keyed by the rapidocr release.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import yaml

from matcher.extract.ocr.base import quiet_runtime

__all__ = ["DET_MODEL_NAME", "REC_MODEL_NAME", "ModelDirs", "build_model_dirs", "packaged_models"]

DET_MODEL_NAME = "PP-OCRv6_small_det"
REC_MODEL_NAME = "PP-OCRv6_small_rec"
_DET_FILE = "PP-OCRv6_det_small.onnx"
_REC_FILE = "PP-OCRv6_rec_small.onnx"

_DET_YML: dict[str, Any] = {
    "Global": {"model_name": DET_MODEL_NAME},
    "PreProcess": {
        "transform_ops": [
            {"DecodeImage": {"channel_first": False, "img_mode": "BGR"}},
            {"DetLabelEncode": None},
            {"DetResizeForTest": {"resize_long": 960}},
            {
                "NormalizeImage": {
                    "mean": [0.485, 0.456, 0.406],
                    "std": [0.229, 0.224, 0.225],
                    "scale": "1./255.",
                    "order": "hwc",
                }
            },
            {"ToCHWImage": None},
            {"KeepKeys": {"keep_keys": ["image", "shape", "polys", "ignore_tags"]}},
        ]
    },
    "PostProcess": {
        "name": "DBPostProcess",
        "thresh": 0.3,
        "box_thresh": 0.6,
        "max_candidates": 1000,
        "unclip_ratio": 1.5,
    },
}

_REC_YML: dict[str, Any] = {
    "Global": {"model_name": REC_MODEL_NAME},
    "PreProcess": {
        "transform_ops": [
            {"DecodeImage": {"channel_first": False, "img_mode": "BGR"}},
            {"MultiLabelEncode": {"gtc_encode": "NRTRLabelEncode"}},
            {"RecResizeImg": {"image_shape": [3, 48, 320]}},
            {
                "KeepKeys": {
                    "keep_keys": ["image", "label_ctc", "label_gtc", "length", "valid_ratio"]
                }
            },
        ]
    },
    "PostProcess": {"name": "CTCLabelDecode"},  # + character_dict from the model
}


@dataclass(frozen=True)
class ModelDirs:
    det_dir: Path
    det_name: str
    rec_dir: Path
    rec_name: str


def packaged_models() -> tuple[Path, Path]:
    """The detection and recognition ONNX files inside the installed ``rapidocr`` package: the
    PP-OCRv6 small models RapidOCR itself runs. Both engines read these."""
    import rapidocr  # type: ignore[import-untyped,unused-ignore]

    src = Path(rapidocr.__file__).parent / "models"
    det, rec = src / _DET_FILE, src / _REC_FILE
    for f in (det, rec):
        if not f.is_file():
            raise FileNotFoundError(
                f"{f} is missing: reinstall with 'pip install rapidocr==3.10.*'"
            )
    return det, rec


def _characters(rec_model: Path) -> list[str]:
    """The recogniser's dictionary from its ONNX metadata, checked against its output width."""
    quiet_runtime()
    import onnxruntime as ort  # type: ignore[import-untyped,unused-ignore]

    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    opts.enable_cpu_mem_arena = False
    session = ort.InferenceSession(str(rec_model), opts, providers=["CPUExecutionProvider"])
    meta: dict[str, str] = session.get_modelmeta().custom_metadata_map
    if "character" not in meta:
        raise RuntimeError(f"{rec_model} carries no 'character' metadata")
    chars = meta["character"].split("\n")
    if chars and chars[-1] == "":
        chars.pop()
    classes = session.get_outputs()[0].shape[-1]
    # CTC adds a blank in front and a space at the end.
    if isinstance(classes, int) and classes != len(chars) + 2:
        raise RuntimeError(f"{rec_model}: {len(chars)} characters for {classes} output classes")
    return chars


def _place(src: Path, dst: Path) -> None:
    try:
        os.symlink(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def _write_yml(path: Path, data: dict[str, Any]) -> None:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def build_model_dirs(cache_dir: Path) -> ModelDirs:
    """The det/rec model folders under ``cache_dir``, built on first use (no network, ~0.2 s)."""
    det_src, rec_src = packaged_models()
    stamp = f"rapidocr-{version('rapidocr')}-{det_src.stat().st_size}-{rec_src.stat().st_size}"
    # The folders link to this environment's files: another environment (another checkout's
    # venv, maybe deleted since) gets folders of its own, never links that dangle.
    where = hashlib.sha256(f"{det_src.resolve()}\n{rec_src.resolve()}".encode()).hexdigest()[:12]
    root = cache_dir / f"ppocr-{stamp}-{where}"
    dirs = ModelDirs(root / DET_MODEL_NAME, DET_MODEL_NAME, root / REC_MODEL_NAME, REC_MODEL_NAME)
    if (root / "complete").is_file():
        if all((d / "inference.onnx").exists() for d in (dirs.det_dir, dirs.rec_dir)):
            return dirs
        shutil.rmtree(root, ignore_errors=True)  # its model files are gone: build it again

    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".building-", dir=cache_dir))
    try:
        (tmp / DET_MODEL_NAME).mkdir()
        (tmp / REC_MODEL_NAME).mkdir()
        _place(det_src, tmp / DET_MODEL_NAME / "inference.onnx")
        _place(rec_src, tmp / REC_MODEL_NAME / "inference.onnx")
        _write_yml(tmp / DET_MODEL_NAME / "inference.yml", _DET_YML)
        rec_yml = {**_REC_YML, "PostProcess": {**_REC_YML["PostProcess"]}}
        rec_yml["PostProcess"]["character_dict"] = _characters(rec_src)
        _write_yml(tmp / REC_MODEL_NAME / "inference.yml", rec_yml)
        (tmp / "complete").write_text(stamp + "\n", encoding="utf-8")
        try:
            tmp.rename(root)
        except OSError:
            if not (root / "complete").is_file():  # not another worker finishing first
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dirs
