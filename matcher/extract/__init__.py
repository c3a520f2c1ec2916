"""Reading uploads: intake (what the bytes are, the limits), PDF/OFD text, OCR engines, document
kinds as data, fields with their checks.

May import: catalog, errors, extras (and no other domain package).
"""
