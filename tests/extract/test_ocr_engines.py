"""The OCR engines and their factory: both built-in engines read real rendered documents."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

import matcher.extract.ocr as ocr
from matcher.errors import OcrUnavailable
from matcher.extract.model import TextLine
from matcher.extract.ocr import OcrEngine, OcrOptions, engine_kinds, get_engine, make_engine, rapid
from matcher.extract.ocr.base import Image
from matcher.extract.ocr.models import build_model_dirs
from matcher.extract.ocr.paddle import PaddleOcrEngine, PaddleOcrOptions
from matcher.extract.ocr.rapid import RapidOcrEngine, RapidOcrOptions
from matcher.extract.ocr.testing import (
    ID_CARD_KEYS,
    LICENCE_KEYS,
    id_card_image,
    licence_image,
    normalise,
)

KINDS = ["paddleocr", "rapidocr"]


@pytest.fixture(scope="module")
def licence() -> Image:
    return licence_image()


@pytest.fixture(scope="module")
def id_card() -> Image:
    return id_card_image()


def _joined(lines: list[TextLine]) -> str:
    return normalise("".join(line.text for line in lines))


# --- factory ----------------------------------------------------------------------------------


def test_public_names_are_exported() -> None:
    assert sorted(ocr.__all__) == ocr.__all__
    for name in ocr.__all__:
        assert getattr(ocr, name) is not None


def test_both_built_in_engines_are_known() -> None:
    assert {"paddleocr", "rapidocr"} <= set(engine_kinds())


def test_an_unknown_kind_lists_the_known_kinds() -> None:
    with pytest.raises(
        ValueError, match=r"unknown OCR engine kind 'tesseract'.*paddleocr.*rapidocr"
    ):
        make_engine({"kind": "tesseract"})


def test_options_without_a_kind_are_refused() -> None:
    with pytest.raises(ValueError, match="need a 'kind'"):
        ocr.parse_options({"threads": 2})


def test_options_are_validated_by_the_engines_model() -> None:
    assert ocr.parse_options({"kind": "rapidocr", "threads": 1}) == RapidOcrOptions(threads=1)
    with pytest.raises(ValueError, match="extra"):
        ocr.parse_options({"kind": "rapidocr", "lang": "en"})


def test_a_card_sized_image_is_detected_at_the_small_side() -> None:
    options = RapidOcrOptions()
    assert options.det_side(1012, 638) == 640  # an ID card at 300 DPI
    assert options.det_side(638, 1012) == 640
    assert options.det_side(1654, 2339) == 960  # an A4 page at 200 DPI
    assert options.det_side(4032, 3024) == 960  # a phone photo: the card is a part of it
    assert RapidOcrOptions(small_image_side=0).det_side(1012, 638) == 960
    assert RapidOcrOptions(det_limit_side_len=480).det_side(1012, 638) == 480


def test_a_kind_cannot_be_registered_twice() -> None:
    class Impostor:
        kind: ClassVar[str] = "rapidocr"
        options_model: ClassVar[type[OcrOptions]] = RapidOcrOptions

        def recognise(self, image: Image) -> list[TextLine]:
            return []

    with pytest.raises(ValueError, match="already registered"):
        ocr.register_engine(Impostor)


def test_importing_the_engines_does_not_import_their_libraries() -> None:
    code = (
        "import sys, matcher.extract.ocr, matcher.extract.ocr.rapid, matcher.extract.ocr.paddle\n"
        "heavy = {'rapidocr', 'paddleocr', 'paddlex', 'onnxruntime', 'openvino', 'cv2', 'numpy'}\n"
        "heavy &= set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    ("module", "extra", "build"),
    [
        ("rapidocr", "ocr", lambda: RapidOcrEngine(RapidOcrOptions())),
        ("paddleocr", "paddle", lambda: PaddleOcrEngine(PaddleOcrOptions())),
    ],
)
def test_a_missing_library_says_which_extra_to_install(
    monkeypatch: pytest.MonkeyPatch, module: str, extra: str, build: Any
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` raise ImportError
    with pytest.raises(ImportError, match=rf"pip install 'matcher\[{extra}\]'") as raised:
        build()
    assert isinstance(raised.value, OcrUnavailable) and raised.value.extra == extra


def test_openvino_runs_in_f32_with_a_bounded_kernel_cache() -> None:
    # bf16 (the plugin's pick on AVX-512 BF16 CPUs) ran recognition ~1.7x slower here; an unbounded
    # kernel cache held a worker at 1.32 GB.
    from rapidocr.inference_engine.openvino.device_config import CPUConfig

    RapidOcrEngine(RapidOcrOptions())
    config = CPUConfig({"inference_num_threads": 2}).get_config()  # type: ignore[arg-type]
    assert config["CPU_RUNTIME_CACHE_CAPACITY"] == "64"
    assert config["INFERENCE_PRECISION_HINT"] == "f32"
    assert config["INFERENCE_NUM_THREADS"] == "2"


HEAP_SCRIPT = """
import sys
import numpy as np
from matcher.extract.ocr.base import bounded_heap

def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 // 2**20

if sys.argv[1] == "bounded":
    assert bounded_heap()
start = rss_mb()
big = np.ones(24 * 2**20 // 8); del big  # by default, glibc heaps blocks up to 24 MB from now on
pages, kept = [], []
for _ in range(40):  # a page's pixels, then something small that outlives them
    pages.append(np.ones(6 * 2**20 // 8))
    kept.append(np.ones(100_000 // 8))
del pages
print(rss_mb() - start)
"""


def test_a_worker_gives_back_the_memory_of_the_pages_it_has_read() -> None:
    def held_mb(mode: str) -> int:
        run = subprocess.run(
            [sys.executable, "-c", HEAP_SCRIPT, mode], capture_output=True, text=True, check=True
        )
        return int(run.stdout)

    assert held_mb("default") > 150  # 40 freed 6 MB blocks kept in a fragmented heap
    assert held_mb("bounded") < 30


def test_line_batches_come_in_widths_of_whole_steps() -> None:
    engine = RapidOcrEngine(RapidOcrOptions())
    image = id_card_image()
    first = engine.recognise(image)  # builds the recogniser
    widths: list[int] = []
    session = engine._ocr.text_rec.session
    real = session.__call__

    class Recorder:
        def __call__(self, batch: Any) -> Any:
            widths.append(batch.shape[3])
            return real(batch)

        def __getattr__(self, name: str) -> Any:
            return getattr(session, name)

    engine._ocr.text_rec.session = Recorder()
    again = engine.recognise(image)
    assert widths and all(w % rapid.REC_WIDTH_STEP == 0 for w in widths)
    assert [line.text for line in again] == [line.text for line in first]


def test_without_openvino_the_default_runtime_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "openvino", None)
    with pytest.raises(ImportError, match=r"OpenVINO runtime .* pip install 'matcher\[ocr\]'"):
        RapidOcrEngine(RapidOcrOptions())
    assert RapidOcrEngine(RapidOcrOptions(runtime="onnxruntime")).recognise(id_card_image())


# --- engines on real images --------------------------------------------------------------------


ENGINE_OPTIONS = [{"kind": kind} for kind in KINDS] + [
    {"kind": "rapidocr", "runtime": "onnxruntime"}
]


@pytest.fixture(
    scope="module", params=ENGINE_OPTIONS, ids=lambda o: "-".join(str(v) for v in o.values())
)
def engine_options(request: pytest.FixtureRequest) -> dict[str, str]:
    """Each built-in engine; rapidocr on both its runtimes (OpenVINO, the default, and ONNX)."""
    return dict(request.param)


@pytest.fixture(scope="module")
def engine(engine_options: dict[str, str]) -> OcrEngine:
    """The engine, loaded once per process (as a worker does)."""
    return get_engine(engine_options)


def test_get_engine_keeps_one_engine_per_options(
    engine: OcrEngine, engine_options: dict[str, str]
) -> None:
    assert get_engine(dict(engine_options)) is engine


def test_engine_reads_a_licence_page(engine: OcrEngine, licence: Image) -> None:
    lines = engine.recognise(licence)
    text = _joined(lines)
    for key in LICENCE_KEYS:
        assert normalise(key) in text
    assert all(line.page == 0 and 0.5 <= line.confidence <= 1.0 for line in lines)
    title = next(line for line in lines if line.text == "营业执照")
    # drawn at 32 pt from x=232 pt, y=110 pt baseline on a 595×842 pt page at 1654×2339 px
    assert 600 < title.box.x0 < 680 and 190 < title.box.y0 < 260 and 280 < title.box.y1 < 340


def test_engine_reads_an_id_card(engine: OcrEngine, id_card: Image) -> None:
    text = _joined(engine.recognise(id_card))
    for key in ID_CARD_KEYS:
        assert normalise(key) in text


def test_engine_reads_nothing_on_a_blank_page(engine: OcrEngine) -> None:
    assert engine.recognise(np.full((300, 400, 3), 255, dtype=np.uint8)) == []


@pytest.mark.parametrize(
    "bad",
    [np.zeros((10, 10), np.uint8), np.zeros((10, 10, 4), np.uint8), np.zeros((10, 10, 3), float)],
    ids=["gray", "rgba", "float"],
)
def test_engine_refuses_what_is_not_rgb(engine: OcrEngine, bad: Any) -> None:
    with pytest.raises(ValueError, match="H×W×3 uint8 RGB"):
        engine.recognise(bad)


def test_calls_from_two_threads_are_serialised_and_stay_apart(
    engine: OcrEngine, licence: Image, id_card: Image
) -> None:
    results: dict[str, str] = {}

    def read(name: str, image: Image) -> None:
        results[name] = _joined(engine.recognise(image))

    threads = [
        threading.Thread(target=read, args=("licence", licence)),
        threading.Thread(target=read, args=("id_card", id_card)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert "91330900MA2A0B3C45" in results["licence"] and "李晓红" not in results["licence"]
    assert "330902199005120027" in results["id_card"] and "王海明" not in results["id_card"]


# --- PaddleOCR offline ---------------------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"network use: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    yield


def test_paddle_builds_from_local_folders_without_the_network(
    no_network: None, tmp_path: Path, id_card: Image
) -> None:
    engine = PaddleOcrEngine(PaddleOcrOptions(work_dir=tmp_path))
    assert "330902199005120027" in _joined(engine.recognise(id_card))
    assert (tmp_path / "models").is_dir()


def test_engines_write_nothing_to_the_home_folder(tmp_path: Path) -> None:
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    code = (
        "import sys\n"
        "from matcher.extract.ocr import make_engine\n"
        "from matcher.extract.ocr.testing import id_card_image\n"
        "for opts in ({'kind': 'rapidocr'}, {'kind': 'paddleocr', 'work_dir': sys.argv[1]}):\n"
        "    assert make_engine(opts).recognise(id_card_image())\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PADDLE_PDX_", "ORT_", "XDG_"))}
    subprocess.run(
        [sys.executable, "-c", code, str(work)], check=True, env={**env, "HOME": str(home)}
    )
    assert list(home.rglob("*")) == []
    assert (work / "paddlex").is_dir()


def test_model_folders_are_built_fast_and_kept(tmp_path: Path) -> None:
    start = time.perf_counter()
    dirs = build_model_dirs(tmp_path)
    assert time.perf_counter() - start < 3.0  # ~0.2 s here; generous for a loaded CI machine
    for folder, name in ((dirs.det_dir, dirs.det_name), (dirs.rec_dir, dirs.rec_name)):
        assert (folder / "inference.onnx").is_file()
        assert f"model_name: {name}" in (folder / "inference.yml").read_text(encoding="utf-8")
    mtime = (dirs.rec_dir / "inference.yml").stat().st_mtime_ns
    assert build_model_dirs(tmp_path) == dirs
    assert (dirs.rec_dir / "inference.yml").stat().st_mtime_ns == mtime
    assert [p.name for p in tmp_path.iterdir()] == [dirs.det_dir.parent.name]


def test_model_folders_whose_files_are_gone_are_built_again(tmp_path: Path) -> None:
    """The folders link into the environment that built them; when that environment is gone
    (a CI checkout deleted, its venv with it), the next engine builds them again instead of
    failing on links that lead nowhere."""
    dirs = build_model_dirs(tmp_path)
    model = dirs.det_dir / "inference.onnx"
    model.unlink()
    model.symlink_to(tmp_path / "deleted-venv" / "PP-OCRv6_det_small.onnx")
    assert not model.exists()
    assert build_model_dirs(tmp_path) == dirs
    assert model.is_file() and (dirs.rec_dir / "inference.onnx").is_file()


def test_recogniser_dictionary_round_trips_through_the_yml(tmp_path: Path) -> None:
    import onnxruntime as ort  # type: ignore[import-untyped,unused-ignore]
    import yaml

    dirs = build_model_dirs(tmp_path)
    data = yaml.safe_load((dirs.rec_dir / "inference.yml").read_text(encoding="utf-8"))
    chars = data["PostProcess"]["character_dict"]
    session = ort.InferenceSession(str(dirs.rec_dir / "inference.onnx"))
    meta = session.get_modelmeta().custom_metadata_map["character"]
    assert chars == meta.split("\n")
    assert len(chars) + 2 == session.get_outputs()[0].shape[-1]
