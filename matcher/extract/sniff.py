"""What the bytes of an upload are: sniffed from their first bytes, never from the name or the
declared type; a declared type that contradicts them is refused with both named."""

from __future__ import annotations

import io
import zipfile

from matcher.errors import MediaTypeMismatch

__all__ = [
    "JPEG",
    "OFD",
    "PDF",
    "PNG",
    "SUPPORTED",
    "SUPPORTED_HINT",
    "TIFF",
    "check_declared",
    "media_name",
    "size_text",
    "sniff_media_type",
]

MiB = 1024 * 1024

PDF, PNG, JPEG, TIFF, OFD = (
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/tiff",
    "application/ofd",
)
SUPPORTED = (PDF, PNG, JPEG, TIFF, OFD)
SUPPORTED_HINT = "请上传 PDF、OFD 或 JPEG/PNG/TIFF 图片"

# What each media type is called in a message; unsupported ones are named so the user knows
# what they actually sent.
_NAMES = {
    PDF: "PDF",
    PNG: "PNG 图片",
    JPEG: "JPEG 图片",
    TIFF: "TIFF 图片",
    OFD: "OFD",
    "application/zip": "ZIP 压缩包",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word 文档",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel 表格",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "PowerPoint 文档",
    "application/x-ole-storage": "旧版 Office 文档",
    "application/x-rar-compressed": "RAR 压缩包",
    "application/x-7z-compressed": "7z 压缩包",
    "application/gzip": "GZIP 压缩包",
    "image/gif": "GIF 图片",
    "image/bmp": "BMP 图片",
    "image/webp": "WebP 图片",
    "image/heic": "HEIC 图片",
    "image/svg+xml": "SVG 图片",
    "text/html": "HTML 网页",
    "application/xml": "XML 文档",
    "text/plain": "纯文本",
}

# Declared types that say nothing, and the aliases clients send for the types we read.
_UNINFORMATIVE = {"", "application/octet-stream", "binary/octet-stream", "application/unknown"}
_ALIASES = {
    PDF: {PDF, "application/x-pdf", "application/acrobat"},
    PNG: {PNG, "image/x-png"},
    JPEG: {JPEG, "image/jpg", "image/pjpeg"},
    TIFF: {TIFF, "image/tif", "image/x-tiff"},
    # An OFD is a ZIP, and browsers often say so.
    OFD: {OFD, "application/x-ofd", "application/zip", "application/x-zip-compressed"},
}


def sniff_media_type(data: bytes) -> str | None:
    """The media type the bytes really are, from their magic numbers; None when unrecognised."""
    head = data[:16]
    if data[:1024].find(b"%PDF-") != -1:  # readers accept junk before the header
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return TIFF
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _sniff_zip(data)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "application/x-ole-storage"
    if head.startswith(b"Rar!\x1a\x07"):
        return "application/x-rar-compressed"
    if head.startswith(b"7z\xbc\xaf\x27\x1c"):
        return "application/x-7z-compressed"
    if head.startswith(b"\x1f\x8b"):
        return "application/gzip"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"BM"):
        return "image/bmp"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"avif"):
        return "image/heic"
    return _sniff_text(data[:2048])


_OOXML = {
    "word/": "wordprocessingml.document",
    "xl/": "spreadsheetml.sheet",
    "ppt/": "presentationml.presentation",
}


def _sniff_zip(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = {name.replace("\\", "/").lstrip("/").lower() for name in archive.namelist()}
    except (zipfile.BadZipFile, ValueError, EOFError, OSError):
        return "application/zip"
    if "ofd.xml" in names:
        return OFD
    if "[content_types].xml" in names:  # Office Open XML: say which, so the user recognises it
        for folder, kind in _OOXML.items():
            if any(name.startswith(folder) for name in names):
                return f"application/vnd.openxmlformats-officedocument.{kind}"
    return "application/zip"


def _sniff_text(head: bytes) -> str | None:
    if b"\x00" in head:
        return None
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        # A cut multi-byte character at the end is fine; anything else is binary.
        try:
            text = head[:-4].decode("utf-8")
        except UnicodeDecodeError:
            return None
    lowered = text.lstrip("\ufeff \t\r\n").lower()
    if "<svg" in lowered[:1024]:
        return "image/svg+xml"
    if lowered.startswith(("<!doctype html", "<html", "<head", "<body")) or "<html" in lowered:
        return "text/html"
    if lowered.startswith("<?xml"):
        return "application/xml"
    return "text/plain"


def check_declared(declared: str | None, actual: str | None) -> None:
    if declared is None:
        return
    mime = declared.split(";", 1)[0].strip().lower()
    if mime in _UNINFORMATIVE or (actual is not None and mime in _ALIASES.get(actual, {actual})):
        return
    raise MediaTypeMismatch(f"声明的文件类型为 {mime}，实际内容为 {media_name(actual)}")


def media_name(media_type: str | None) -> str:
    return _NAMES.get(media_type or "", "无法识别的类型")


def size_text(n: int) -> str:
    return f"{n / MiB:.1f} MB" if n >= MiB else f"{n / 1024:.0f} KB"
