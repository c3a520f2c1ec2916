"""The extraction pipeline around the OCR engine."""

import numpy as np

from matcher.extract.pipeline import without_seal_ink


def test_red_seal_ink_is_removed_and_black_text_kept() -> None:
    page = np.full((40, 40, 3), 255, dtype=np.uint8)
    page[5:10, 5:10] = (0, 0, 0)  # printed text
    page[20:30, 20:30] = (210, 40, 40)  # seal ink
    page[30:35, 5:10] = (120, 120, 120)  # grey scan noise
    cleaned = without_seal_ink(page)
    assert (cleaned[20:30, 20:30] == 255).all()
    assert (cleaned[5:10, 5:10] == 0).all()
    assert (cleaned[30:35, 5:10] == 120).all()
    assert (page[20:30, 20:30] == (210, 40, 40)).all()  # the input is left alone


def test_seal_ink_on_greyish_paper_turns_to_the_paper_colour_not_white() -> None:
    # White holes on a grey scan are shapes of their own that the text detector merges with the
    # text beside them (the date under a 登记机关 seal went unread).
    page = np.full((64, 64, 3), (214, 210, 200), dtype=np.uint8)
    page[5:10, 5:30] = (60, 60, 60)  # printed text
    page[20:40, 20:40] = (197, 80, 76)  # seal ink after a low-contrast scan
    cleaned = without_seal_ink(page)
    assert (cleaned[20:40, 20:40] == (214, 210, 200)).all()
    assert (cleaned[5:10, 5:30] == 60).all()


def test_a_dark_stroke_tinted_red_by_a_seal_over_it_is_kept() -> None:
    # A JPEG's coarse colour bleeds the seal's red into the black strokes it crosses.
    page = np.full((20, 20, 3), 240, dtype=np.uint8)
    page[2:8, 2:8] = (205, 50, 45)  # seal ink
    page[10:16, 2:8] = (104, 22, 20)  # a date's stroke under the seal's ring
    cleaned = without_seal_ink(page)
    assert (cleaned[2:8, 2:8] == 240).all()
    assert (cleaned[10:16, 2:8] == (104, 22, 20)).all()


def test_page_without_red_ink_is_passed_through_unchanged() -> None:
    page = np.full((10, 10, 3), 200, dtype=np.uint8)
    assert without_seal_ink(page) is page


class _NoOcr:
    """Stands in for the engine where none may be called."""

    kind = "none"
    calls = 0

    def recognise(self, image: object) -> list[object]:
        _NoOcr.calls += 1
        raise AssertionError("a born-digital PDF reached the OCR engine")


def test_born_digital_pdfs_never_reach_the_ocr_engine() -> None:
    from matcher.extract.kinds import load_doc_kinds
    from matcher.extract.pipeline import ExtractOptions, Extractor
    from tests.extract.corpus import KINDS, make_samples

    extractor = Extractor(load_doc_kinds(), ExtractOptions())
    extractor._engine = _NoOcr()  # type: ignore[assignment]
    for kind in KINDS:
        for sample in make_samples(kind, 2):
            result = extractor.extract(sample.pdf_bytes)
            assert result.kind == kind
            assert all(page.source == "text_layer" for page in result.pages)
    assert _NoOcr.calls == 0


def test_a_seals_text_in_a_pdf_text_layer_stays_out_of_the_fields() -> None:
    """The seal over 登记机关 is text too; its top character runs level with the row and was read
    into the value ("…管理局市") on 4 of 10 born-digital licences."""
    from matcher.extract.kinds import load_doc_kinds
    from matcher.extract.pipeline import ExtractOptions, Extractor
    from tests.extract.corpus import make_samples

    extractor = Extractor(load_doc_kinds(), ExtractOptions())
    extractor._engine = _NoOcr()  # type: ignore[assignment]
    for sample in make_samples("business_licence", 10):
        fields = {f.name: f.normalised for f in extractor.extract(sample.pdf_bytes).fields}
        assert fields["registration_authority"] == sample.truth["registration_authority"]
        assert fields["registered_on"] == sample.truth["registered_on"]
