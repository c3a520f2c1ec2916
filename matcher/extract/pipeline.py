"""The extraction flow: intake → text (layer or OCR) → document kind → fields.

One OCR engine per process, loaded on first need and shared; its calls are serialised by the
engine itself. Everything here is blocking: the API runs it in a worker thread.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from matcher.errors import InputError
from matcher.extract.fields import extract_fields
from matcher.extract.intake import (
    SEAL_RED_MARGIN,
    Deadline,
    Document,
    ImagePage,
    Limits,
    load_document,
)
from matcher.extract.kinds import DocKinds
from matcher.extract.model import Extraction, PageText
from matcher.extract.ocr.base import (
    DEFAULT_ENGINE,
    OcrEngine,
    OcrOptions,
    get_engine,
    parse_options,
)

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["ExtractOptions", "Extractor"]

log = logging.getLogger(__name__)

# Seal ink is bright red (R ~ 200 on a scan, ~140 in a dim photo); a reddish pixel darker than
# this is a black stroke tinted by the seal over it.
SEAL_MIN_RED = 120


@dataclass(frozen=True)
class ExtractOptions:
    ocr: Mapping[str, Any] = field(default_factory=lambda: {"kind": DEFAULT_ENGINE})
    limits: Limits = field(default_factory=Limits)


class Extractor:
    """Reads uploaded files into a document kind and its fields."""

    def __init__(self, kinds: DocKinds, options: ExtractOptions) -> None:
        self.kinds = kinds
        self.limits = options.limits
        self.ocr_options: OcrOptions = parse_options(options.ocr)
        self._engine: OcrEngine | None = None

    @property
    def engine(self) -> OcrEngine:
        if self._engine is None:
            self._engine = get_engine(self.ocr_options)
        return self._engine

    def intake(
        self, data: bytes, *, filename: str | None = None, declared_type: str | None = None
    ) -> Document:
        """Check and decode a file without reading it (what an upload must pass)."""
        return load_document(
            data, filename=filename, declared_type=declared_type, limits=self.limits
        )

    def read(self, document: Document, deadline: Deadline) -> list[PageText]:
        """Text of every page: the PDF text layer where there is one, OCR elsewhere."""
        pages: list[PageText] = []
        for page in document.pages:
            deadline.check()
            if isinstance(page, PageText):
                pages.append(page)
                continue
            pages.append(self._ocr(page, deadline))
        return pages

    def _ocr(self, page: ImagePage, deadline: Deadline) -> PageText:
        # numpy and orientation come with the engines (matcher[ocr]); a page reaches here only
        # when intake could hold its pixels, so they are installed.
        from matcher.extract.ocr.orient import read_page

        # The deadline is checked before each OCR pass, not only between pages.
        lines, rotation = read_page(self.engine, without_seal_ink(page.image), deadline.check)
        turned = rotation in (90, 270)
        return PageText(
            index=page.index,
            width=page.height if turned else page.width,
            height=page.width if turned else page.height,
            lines=[replace(line, page=page.index) for line in lines],
            source="ocr",
            rotation=rotation,
        )

    def extract(
        self,
        data: bytes,
        *,
        filename: str | None = None,
        declared_type: str | None = None,
        expected_kind: str | None = None,
    ) -> Extraction:
        deadline = self.limits.deadline()
        if expected_kind is not None and expected_kind not in self.kinds:
            known = ", ".join(self.kinds.codes())
            raise InputError(
                f"未知的文书类型：{expected_kind}（可选：{known}）", field="expected_kind"
            )
        document = load_document(
            data,
            filename=filename,
            declared_type=declared_type,
            limits=self.limits,
            deadline=deadline,
        )
        pages = self.read(document, deadline)
        warnings: list[str] = []
        kind = self.kinds.recognise(pages, expected_kind, warnings=warnings)
        if kind is None:
            return Extraction(
                kind=None, kind_name=None, pages=pages, warnings=[*warnings, "未能识别文书类型"]
            )
        fields, field_warnings = extract_fields(kind, pages)
        return Extraction(
            kind=kind.code,
            kind_name=kind.name,
            pages=pages,
            fields=fields,
            warnings=warnings + field_warnings,
        )


def without_seal_ink(image: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """The page with its red ink turned to the colour of its paper.

    Official seals (印章) are stamped in red over the very text they certify — the issuing
    authority, the date — and OCR reads the seal's characters into it. Printed text is black, so
    dropping strongly red pixels removes the seal and keeps the text. Dark ones stay: where the
    seal crosses a character, a JPEG's coarse colour (phone photos) tints the black strokes red,
    and removing them cut the 0 of a date in two (2019 read as 219). They become the paper's
    colour (the page's median), not white: on a greyish scan, white holes in the shape of the
    seal are edges of their own, and the text detector merges them with the text beside them.
    """
    import numpy as np

    # In uint8, in place: a phone photo is ~15 MB of pixels, and int16 copies of it cost more
    # memory than the OCR of the page. red - other wraps where red < other; the first mask
    # keeps those out.
    red = image[:, :, 0]
    other = np.maximum(image[:, :, 1], image[:, :, 2])
    ink = red > other
    ink &= (red - other) > SEAL_RED_MARGIN
    ink &= red > SEAL_MIN_RED
    if not ink.any():
        return image
    paper = np.median(image[::16, ::16].reshape(-1, 3), axis=0).astype(np.uint8)
    cleaned = image.copy()
    cleaned[ink] = paper
    return cleaned
