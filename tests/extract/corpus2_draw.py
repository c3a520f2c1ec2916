"""Drawing for the second test corpus: Pillow and FreeType, system CJK faces, phone photos.

Nothing here is shared with ``tests/extract/corpus.py`` (which draws PDFs with PyMuPDF): pages are
rasterised directly by Pillow, in every CJK face the machine has (see :func:`faces`), and photos
are made with a perspective transform, uneven light and blur instead of a flat-bed scan's
rotation and noise.
"""

from __future__ import annotations

import functools
import io
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pymupdf
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFilter, ImageFont

__all__ = ["INK", "LABEL_BLUE", "Canvas", "faces", "phone_photo"]

Rgb = tuple[int, int, int]
INK: Rgb = (24, 24, 28)
LABEL_BLUE: Rgb = (38, 70, 140)
SEAL_RED: Rgb = (214, 38, 38)

# (face name, file, collection index): Debian's fonts-arphic-uming / -ukai (Song and Kai, the
# faces official documents are set in) and fonts-noto-cjk (Song and Hei), which tests/run.sh
# installs, then MuPDF's built-in Droid Sans Fallback, which is always there.
_SYSTEM_FACES = (
    ("uming", "/usr/share/fonts/truetype/arphic/uming.ttc", 0),
    ("ukai", "/usr/share/fonts/truetype/arphic/ukai.ttc", 0),
    ("noto-serif", "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
    ("noto-sans", "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("noto-sans-bold", "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", 2),
)
_DIGITS_FACE = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"


@functools.cache
def _droid() -> bytes:
    return bytes(pymupdf.Font("cjk").buffer)


@functools.cache
def faces() -> tuple[str, ...]:
    """The CJK faces this machine can draw with: the system ones found, then ``droid``."""
    found = tuple(name for name, path, _ in _SYSTEM_FACES if Path(path).exists())
    return (*found, "droid")


@functools.cache
def font(face: str, size: int) -> ImageFont.FreeTypeFont:
    if face == "droid":
        return ImageFont.truetype(io.BytesIO(_droid()), size)
    if face == "mono":
        if Path(_DIGITS_FACE).exists():
            return ImageFont.truetype(_DIGITS_FACE, size)
        return font("droid", size)
    for name, path, index in _SYSTEM_FACES:
        if name == face:
            return ImageFont.truetype(path, size, index=index)
    raise KeyError(f"unknown face {face!r}; known: {', '.join(faces())}")


@dataclass
class Canvas:
    """A page being drawn: ``face`` is the document's body face, ``label_face`` its labels'."""

    image: Image.Image
    face: str
    label_face: str

    @classmethod
    def blank(cls, width: int, height: int, face: str, label_face: str, paper: Rgb) -> Canvas:
        return cls(Image.new("RGB", (width, height), paper), face, label_face)

    @property
    def draw(self) -> ImageDraw.ImageDraw:
        return ImageDraw.Draw(self.image)

    def text(
        self,
        x: float,
        y: float,
        s: str,
        size: int,
        *,
        face: str | None = None,
        fill: Rgb = INK,
        gap: float = 0.0,
    ) -> float:
        """Draw ``s`` with ``gap`` em of extra space between characters; return its right end."""
        f = font(face or self.face, size)
        if not gap:
            self.draw.text((x, y), s, font=f, fill=fill)
            return x + f.getlength(s)
        for ch in s:
            self.draw.text((x, y), ch, font=f, fill=fill)
            x += f.getlength(ch) + gap * size
        return x - gap * size

    def label(
        self, x: float, y: float, s: str, size: int, *, width: float = 0, **kw: object
    ) -> float:
        """A label in the label face; with ``width``, spread over that width (名　　称)."""
        f = font(self.label_face, size)
        if width and len(s) > 1:
            spare = width - sum(f.getlength(ch) for ch in s)
            gap = max(spare / (len(s) - 1), 0) / size
            return self.text(x, y, s, size, face=self.label_face, gap=gap, **kw)  # type: ignore[arg-type]
        return self.text(x, y, s, size, face=self.label_face, **kw)  # type: ignore[arg-type]

    def vertical(self, x: float, y: float, s: str, size: int, step: float, fill: Rgb = INK) -> None:
        for i, ch in enumerate(s):
            self.text(x, y + i * step, ch, size, face=self.label_face, fill=fill)

    def wrapped(
        self, x: float, y: float, s: str, width: float, size: int, step: float, fill: Rgb = INK
    ) -> int:
        """Break ``s`` wherever the width runs out (a line may start with "；"); lines drawn."""
        f = font(self.face, size)
        lines, line = [], ""
        for ch in s:
            # A closing bracket never starts a line (Chinese typesetting); "；" may.
            if line and f.getlength(line + ch) > width and ch not in "）)」】":
                lines.append(line)
                line = ""
            line += ch
        lines.append(line)
        for i, text in enumerate(lines):
            self.text(x, y + i * step, text, size, fill=fill)
        return len(lines)

    def rule(self, x0: float, y0: float, x1: float, y1: float, width: int = 2) -> None:
        self.draw.line([(x0, y0), (x1, y1)], fill=(70, 70, 70), width=width)

    def frame(
        self, x0: float, y0: float, x1: float, y1: float, width: int = 3, fill: Rgb = (90, 70, 40)
    ) -> None:
        self.draw.rectangle([x0, y0, x1, y1], outline=fill, width=width)

    def qr(self, x: int, y: int, size: int, rng: random.Random) -> None:
        cell = size // 25
        for i in range(25):
            for j in range(25):
                if rng.random() < 0.5 or (min(i, j) < 7 and max(i, j) < 7):
                    self.draw.rectangle(
                        [
                            x + i * cell,
                            y + j * cell,
                            x + (i + 1) * cell - 1,
                            y + (j + 1) * cell - 1,
                        ],
                        fill=INK,
                    )

    def seal(self, cx: float, cy: float, r: float, text: str) -> None:
        """A round red seal, its text along the top arc, stamped over whatever is there."""
        side = int(2 * r + 8)
        layer = Image.new("L", (side, side), 0)
        d = ImageDraw.Draw(layer)
        c = side / 2
        d.ellipse([c - r, c - r, c + r, c + r], outline=255, width=max(int(r / 14), 3))
        star = [
            (
                c + r * 0.22 * math.cos(math.pi / 2 + k * math.pi / 5) * (1 if k % 2 == 0 else 0.4),
                c - r * 0.22 * math.sin(math.pi / 2 + k * math.pi / 5) * (1 if k % 2 == 0 else 0.4),
            )
            for k in range(10)
        ]
        d.polygon(star, fill=255)
        size = max(int(r / 4.2), 10)
        f = font(self.face, size)
        span = math.radians(220)
        for k, ch in enumerate(text):
            angle = -math.pi / 2 - span / 2 + span * (k + 0.5) / len(text)
            glyph = Image.new("L", (size * 2, size * 2), 0)
            ImageDraw.Draw(glyph).text((size / 2, size / 2), ch, font=f, fill=255)
            glyph = glyph.rotate(-math.degrees(angle) - 90, resample=Image.BICUBIC)
            gx = c + (r - size * 0.95) * math.cos(angle) - size
            gy = c + (r - size * 0.95) * math.sin(angle) - size
            layer.paste(255, (int(gx), int(gy)), glyph)
        alpha = np.asarray(layer, dtype=np.float32)[..., None] / 255 * 0.85
        x0, y0 = int(cx - side / 2), int(cy - side / 2)
        page = np.asarray(self.image, dtype=np.float32)
        box = page[y0 : y0 + side, x0 : x0 + side]
        alpha = alpha[: box.shape[0], : box.shape[1]]
        red = np.array(SEAL_RED, dtype=np.float32) / 255
        page[y0 : y0 + side, x0 : x0 + side] = box * (1 - alpha) + box * red * alpha
        self.image = Image.fromarray(page.clip(0, 255).astype(np.uint8))

    def pixels(self) -> NDArray[np.uint8]:
        return np.asarray(self.image, dtype=np.uint8).copy()


def _perspective_coefficients(
    target: Sequence[tuple[float, float]], source: Sequence[tuple[float, float]]
) -> list[float]:
    """PIL's 8 coefficients mapping each output point (``target``) back to its ``source``."""
    rows = []
    for (x, y), (u, v) in zip(target, source, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    a = np.array(rows, dtype=np.float64)
    b = np.array([c for point in source for c in point], dtype=np.float64)
    return [float(c) for c in np.linalg.solve(a, b)]


def phone_photo(page: NDArray[np.uint8], seed: int, *, strength: float = 1.0) -> bytes:
    """A phone photo of the page on a table: perspective, uneven warm light, blur, noise, JPEG.

    ``strength`` scales the perspective, the light's unevenness, the blur and the noise.
    """
    rng = random.Random(f"photo:{seed}")
    h, w = page.shape[:2]
    m = int(0.06 * max(h, w))
    table = (rng.randint(70, 120), rng.randint(60, 95), rng.randint(45, 75))
    photo = Image.new("RGB", (w + 2 * m, h + 2 * m), table)
    photo.paste(Image.fromarray(page), (m, m))
    corners = [(m, m), (m + w, m), (m + w, m + h), (m, m + h)]
    jitter = 0.022 * strength * min(w, h)
    moved = [
        (x + rng.uniform(-jitter, jitter), y + rng.uniform(-jitter, jitter)) for x, y in corners
    ]
    coeffs = _perspective_coefficients(moved, corners)
    photo = photo.transform(photo.size, Image.PERSPECTIVE, coeffs, Image.BICUBIC, fillcolor=table)
    photo = photo.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 1.1) * strength))
    pixels = np.asarray(photo, dtype=np.float32)
    hh, ww = pixels.shape[:2]
    yy, xx = np.mgrid[0:hh, 0:ww].astype(np.float32)
    angle = rng.uniform(0, 2 * math.pi)
    ramp = (xx / ww - 0.5) * math.cos(angle) + (yy / hh - 0.5) * math.sin(angle)
    sx, sy = rng.uniform(0.2, 0.8) * ww, rng.uniform(0.2, 0.8) * hh
    spot = np.exp(-((xx - sx) ** 2 + (yy - sy) ** 2) / (2 * (0.35 * max(ww, hh)) ** 2))
    light = 0.92 + 0.28 * strength * ramp + 0.10 * spot
    tint = np.array([1.0, 0.96, 0.88], dtype=np.float32)
    pixels = pixels * light[..., None] * tint
    pixels += np.random.default_rng(seed).normal(0, 4.5 * strength, pixels.shape)
    out = io.BytesIO()
    Image.fromarray(pixels.clip(0, 255).astype(np.uint8)).save(
        out, "JPEG", quality=rng.randint(62, 78)
    )
    return out.getvalue()
