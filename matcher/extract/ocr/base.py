"""The OCR engine interface: options with a ``kind``, an engine that reads an RGB image, a factory.

Engines register under the entry-point group ``matcher.ocr_engines`` (name = kind, value =
``module:Class``), the built-in ones too; a built-in table keeps the factory working where the
package's entry points are not installed. A heavy library is imported only when its engine is built.
"""

from __future__ import annotations

import ctypes
import functools
import os
import sys
import threading
import warnings
from collections.abc import Mapping
from importlib import import_module
from importlib.metadata import entry_points
from importlib.util import find_spec
from typing import TYPE_CHECKING, Any, ClassVar, Final, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from matcher.errors import OcrUnavailable
from matcher.extract.model import TextLine

__all__ = [
    "DEFAULT_ENGINE",
    "ENTRY_POINT_GROUP",
    "Image",
    "OcrEngine",
    "OcrOptions",
    "SerialEngine",
    "check_image",
    "engine_class",
    "engine_kinds",
    "engine_status",
    "get_engine",
    "import_library",
    "make_engine",
    "missing_libraries",
    "parse_options",
    "quiet_runtime",
    "register_engine",
]

ENTRY_POINT_GROUP = "matcher.ocr_engines"
# The engine tests/bench/extract.py found meeting more of the extraction targets (README).
DEFAULT_ENGINE: Final = "rapidocr"

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Image = npt.NDArray[np.uint8]
    """An H×W×3 uint8 image in RGB order."""
else:
    # numpy comes with the engines (matcher[ocr]); the base install imports this module for
    # the engine registry and the options, never for pixels.
    Image = Any

_BUILT_IN: dict[str, str] = {
    "paddleocr": "matcher.extract.ocr.paddle:PaddleOcrEngine",
    "rapidocr": "matcher.extract.ocr.rapid:RapidOcrEngine",
}


class OcrOptions(BaseModel):
    """Options every engine takes; an engine's own options subclass this with a ``kind`` literal."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str
    threads: int = Field(2, ge=1, le=64, description="inference threads")
    det_limit_side_len: int = Field(
        960,
        ge=320,
        le=4096,
        description="the longer image side is scaled down to this for detection",
    )
    small_det_limit_side_len: int = Field(
        640,
        ge=320,
        le=4096,
        description="detection side for a small image (a card scanned on its own)",
    )
    small_image_side: int = Field(
        1200,
        ge=0,
        le=8192,
        description="an image whose longer side is at most this is small; 0: none is",
    )
    min_confidence: float = Field(
        0.5, ge=0.0, le=1.0, description="lines recognised with less confidence are dropped"
    )

    def det_side(self, width: int, height: int) -> int:
        """The detection side for an image of this size. A card scanned at 300 DPI (~1012×638)
        has text three times the height of an A4 page's at 200 DPI, so it is detected smaller:
        measured on the ID cards of the test corpus, 640 read every field that 960 read, in
        two thirds of the detection time."""
        if max(width, height) <= self.small_image_side:
            return min(self.small_det_limit_side_len, self.det_limit_side_len)
        return self.det_limit_side_len


@runtime_checkable
class OcrEngine(Protocol):
    """Reads the text lines of one image. Implementations are built with their options model."""

    kind: ClassVar[str]
    options_model: ClassVar[type[OcrOptions]]

    def recognise(self, image: Image) -> list[TextLine]:
        """Lines of ``image`` (H×W×3 uint8 RGB), boxes in its pixels, ``page=0``."""
        ...


class SerialEngine:
    """Base for engines whose library must not be entered by two threads at once.

    Subclasses implement ``_recognise``; ``recognise`` checks the image and holds the lock.
    """

    kind: ClassVar[str]
    options_model: ClassVar[type[OcrOptions]]

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def recognise(self, image: Image) -> list[TextLine]:
        check_image(image)
        with self._lock:
            return self._recognise(image)

    def _recognise(self, image: Image) -> list[TextLine]:
        raise NotImplementedError


def quiet_runtime() -> None:
    """Call before an engine's library is first imported.

    ONNX Runtime otherwise writes a telemetry device id under ``~/.cache`` when imported. And
    ``import openvino`` loads OpenVINO's model-conversion tools when it can, which switch on Google
    Analytics telemetry (opt-out, no dialog) and write a client id under ``~/intel``: a government
    service must not report to a third party. The engines read ONNX files as they are and convert
    nothing, so those tools are kept from loading.
    """
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    sys.modules.setdefault("openvino.tools.ovc", None)  # type: ignore[arg-type]  # blocks import


def import_library(module: str, needed_for: str, extra: str = "ocr") -> Any:
    """Import an engine's OCR library quietly (no telemetry file, no DeprecationWarnings); a
    missing one raises OcrUnavailable (an ImportError) that says ``needed_for`` — what needs it
    and the pip command — and names the package's ``extra`` that brings it."""
    quiet_runtime()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return import_module(module)
    except ImportError as e:
        raise OcrUnavailable(needed_for, extra=extra) from e


def missing_libraries(kind: str) -> list[str]:
    """The modules that engine ``kind`` declares (``requires``) and that are not installed;
    nothing is imported. An engine that declares none is taken as installed."""
    cls = engine_class(kind)
    return [m for m in getattr(cls, "requires", ()) if find_spec(m) is None]


def engine_status() -> dict[str, str | None]:
    """Each known engine kind: None when its libraries are installed, else the pip command
    that brings them (for /readyz and ``matcher check-config``)."""
    status: dict[str, str | None] = {}
    for kind in engine_kinds():
        cls = engine_class(kind)
        extra = getattr(cls, "extra", None)
        status[kind] = (
            (f"pip install 'matcher[{extra}]'" if extra else "its library")
            if missing_libraries(kind)
            else None
        )
    return status


def _require_installed(kind: str) -> None:
    missing = missing_libraries(kind)
    if missing:
        extra = getattr(engine_class(kind), "extra", None) or "ocr"
        raise OcrUnavailable(
            f"未安装 OCR 引擎 {kind} 所需的 {', '.join(missing)}，无法识别扫描件或照片；"
            f"请安装：pip install 'matcher[{extra}]'",
            extra=extra,
        )


def check_image(image: object) -> None:
    """Raise ValueError unless ``image`` is an H×W×3 uint8 array."""
    import numpy as np

    if not isinstance(image, np.ndarray):
        raise ValueError(f"an OCR image must be a numpy array, not {type(image).__name__}")
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(
            f"an OCR image must be H×W×3 uint8 RGB, not shape {image.shape} dtype {image.dtype}"
        )
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError("an OCR image must not be empty")


# --- registry -------------------------------------------------------------------------------

_registry_lock = threading.Lock()
_registered: dict[str, type[OcrEngine]] = {}


def _targets() -> dict[str, str]:
    """Kind → ``module:Class`` from the built-in table and the installed entry points."""
    targets = dict(_BUILT_IN)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        known = targets.get(ep.name)
        if known is not None and known != ep.value:
            raise ValueError(
                f"OCR engine kind {ep.name!r} is registered twice: {known} and {ep.value}"
            )
        targets[ep.name] = ep.value
    return targets


def engine_kinds() -> list[str]:
    """Every engine kind the factory knows, sorted."""
    with _registry_lock:
        return sorted(set(_targets()) | set(_registered))


def register_engine(cls: type[OcrEngine]) -> None:
    """Register an engine class at run time (entry points are the usual way); refuses duplicates."""
    with _registry_lock:
        if cls.kind in _registered and _registered[cls.kind] is not cls:
            raise ValueError(f"OCR engine kind {cls.kind!r} is already registered")
        target = _targets().get(cls.kind)
        if target is not None and target != f"{cls.__module__}:{cls.__qualname__}":
            raise ValueError(f"OCR engine kind {cls.kind!r} is already registered as {target}")
        _registered[cls.kind] = cls


def engine_class(kind: str) -> type[OcrEngine]:
    """The engine class for ``kind``; importing it must not import the engine's library."""
    with _registry_lock:
        if kind in _registered:
            return _registered[kind]
        targets = _targets()
        if kind not in targets:
            known = ", ".join(sorted(set(targets) | set(_registered)))
            raise ValueError(f"unknown OCR engine kind {kind!r}; known kinds: {known}")
        module_name, _, attr = targets[kind].partition(":")
        cls: type[OcrEngine] = getattr(import_module(module_name), attr)
        if cls.kind != kind:
            raise ValueError(f"{targets[kind]} declares kind {cls.kind!r}, registered as {kind!r}")
        _registered[kind] = cls
        return cls


def parse_options(data: OcrOptions | Mapping[str, Any]) -> OcrOptions:
    """Validate ``data`` (from settings: ``{"kind": "rapidocr", …}``) into its options model."""
    if isinstance(data, OcrOptions):
        return data
    kind = data.get("kind")
    if not isinstance(kind, str):
        raise ValueError(f"OCR options need a 'kind'; known kinds: {', '.join(engine_kinds())}")
    return engine_class(kind).options_model.model_validate(data)


def make_engine(options: OcrOptions | Mapping[str, Any]) -> OcrEngine:
    """Build a new engine (loads its models: seconds, hundreds of MB). Prefer ``get_engine``."""
    opts = parse_options(options)
    cls = engine_class(opts.kind)
    if not isinstance(opts, cls.options_model):
        raise TypeError(
            f"{cls.__name__} takes {cls.options_model.__name__}, not {type(opts).__name__}"
        )
    _require_installed(opts.kind)
    factory: Any = cls  # a Protocol says nothing about the constructor: engines take their options
    bounded_heap()
    engine: OcrEngine = factory(opts)
    return engine


# glibc's mallopt parameter, and the size from which a block is mapped on its own (bytes).
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 4 * 1024 * 1024


@functools.cache
def bounded_heap() -> bool:
    """Have glibc map every block of 4 MiB or more on its own, and unmap it when freed.

    By default glibc raises that threshold to the size of each large block freed (up to 32 MiB),
    after which a page's big buffers — its pixels and their copies — come from the heap, which
    fragments and keeps what it once held. Reading 15 scans and photos, a worker's peak RSS was
    ~1.0 GB with the default and ~0.82 GB with this, for 3–5% more time per page (docs/ocr.md).
    No effect (False) where the C library is not glibc.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))


_engines_lock = threading.Lock()
_engines: dict[tuple[int, str], OcrEngine] = {}


def get_engine(options: OcrOptions | Mapping[str, Any]) -> OcrEngine:
    """The process's engine for these options, built on first use and kept (one per worker)."""
    opts = parse_options(options)
    key = (os.getpid(), opts.model_dump_json())  # a forked child builds its own
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = make_engine(opts)
            _engines[key] = engine
        return engine
