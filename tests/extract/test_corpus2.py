"""The second, independent test corpus: what it draws, and extraction on a few of its samples."""

from __future__ import annotations

import datetime as dt
import io
import unicodedata

import pytest
from PIL import Image

from matcher.catalog.ids import check_citizen_id, check_uscc
from matcher.errors import InvalidIdentifier
from matcher.extract.kinds import DocKinds, load_doc_kinds
from matcher.extract.model import Extraction
from matcher.extract.pipeline import ExtractOptions, Extractor
from tests.extract import corpus2
from tests.extract.corpus2_draw import faces
from tests.extract.corpus2_layouts import LAYOUTS

ID_FIELDS = {"id_number": check_citizen_id, "uscc": check_uscc}


def test_it_draws_in_several_faces_the_test_setup_installs() -> None:
    # tests/run.sh installs fonts-arphic-uming/-ukai and fonts-noto-cjk; droid is MuPDF's own.
    assert {"uming", "ukai", "noto-serif", "noto-sans", "droid"} <= set(faces())


def test_every_layout_style_and_kind_is_drawn() -> None:
    for kind in corpus2.KINDS:
        samples = corpus2.make_samples(kind, 2 * len(LAYOUTS[kind]))
        assert {s.style for s in samples} == set(LAYOUTS[kind])
        assert len({s.face for s in samples}) >= 2


def test_a_sample_depends_only_on_kind_index_and_seed() -> None:
    first = corpus2.make_samples("business_licence", 2)[1]
    corpus2._sample.cache_clear()
    again = corpus2.make_samples("business_licence", 3)[1]
    assert (first.truth, first.png_bytes) == (again.truth, again.png_bytes)
    assert corpus2.make_samples("business_licence", 2, seed=1)[1].truth != first.truth


@pytest.mark.parametrize(
    "kind", ["id_card_front", "business_licence", "social_insurance_certificate"]
)
def test_its_check_digits_agree_with_the_services_validators(kind: str) -> None:
    """Two independent implementations of GB 11643 / GB 32100: corpus2's and matcher.catalog.ids."""
    for sample in corpus2.make_samples(kind, 12):
        for name, check in ID_FIELDS.items():
            if name not in sample.truth:
                continue
            if name in sample.invalid_fields:
                with pytest.raises(InvalidIdentifier, match="校验码"):
                    check(sample.truth[name])
            else:
                check(sample.truth[name])


def test_its_truth_is_in_normal_form() -> None:
    for kind in corpus2.KINDS:
        for sample in corpus2.make_samples(kind, 8):
            for name, value in sample.truth.items():
                if name.endswith(("_on", "_since")) or name == "birth_date":
                    dt.date.fromisoformat(value)
                if name in ("valid_period", "business_term"):
                    start, _, end = value.partition("/")
                    dt.date.fromisoformat(start)
                    assert end == "长期" or dt.date.fromisoformat(end) > dt.date.fromisoformat(
                        start
                    )


def test_a_phone_photo_is_a_jpeg_with_the_page_on_a_table_around_it() -> None:
    sample = corpus2.make_samples("id_card_front", 1)[0]
    photo = Image.open(io.BytesIO(sample.photo(0)))
    height, width = sample.image().shape[:2]
    assert photo.format == "JPEG" and photo.width > width and photo.height > height


# ── extraction on one sample of each style, clean and photographed ───────────────────────────


def _nfkc(value: str) -> str:
    return unicodedata.normalize("NFKC", value)


@pytest.fixture(scope="module")
def extractor() -> Extractor:
    return Extractor(load_doc_kinds(), ExtractOptions())


CASES = [(kind, i) for kind in corpus2.KINDS for i in range(len(LAYOUTS[kind]))]


@pytest.mark.parametrize(("kind", "index"), CASES)
@pytest.mark.parametrize("variant", ["clean", "photo"])
def test_each_style_is_recognised_and_read_with_canonical_labels(
    extractor: Extractor, kind: str, index: int, variant: str
) -> None:
    sample = corpus2.make_samples(kind, index + 1)[index]
    data = sample.png_bytes if variant == "clean" else sample.photo(index)
    result: Extraction = extractor.extract(data, filename=f"{sample.name}.{variant}")
    assert result.kind == kind
    kinds: DocKinds = extractor.kinds
    got = {f.name: f for f in result.fields}
    wrong = {
        name: got[name].normalised if name in got else None
        for name, expected in sample.truth.items()
        if name not in got or _nfkc(got[name].normalised or "") != _nfkc(expected)
    }
    # A photo may lose one field (a date under a seal): never more, never a wrong label.
    assert len(wrong) <= (0 if variant == "clean" else 1), wrong
    for field in result.fields:
        assert field.label == kinds.get(kind).field(field.name).label
    for name in sample.invalid_fields:
        assert got[name].valid is False
