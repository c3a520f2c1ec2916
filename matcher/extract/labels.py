"""Finding a kind's printed labels in the rows of a page, as OCR and printers mangle them.

Every label of a kind (each field's canonical label and its declared variants, and the labels of
what the kind does not extract) is looked for in three passes over rows read without blanks:

1. at the start of a token, exactly or tolerantly (a character or two misread or dropped, as OCR
   does with spaced labels such as ``名　称``) — a tolerant match must end where a token ends or
   before a colon, so it never eats into a value;
2. for labels still missing, exact occurrences inside a token, just after another label's short
   value (``性别男民族汉``) or, after a long one, where the label ends the token and another token
   follows it on the row (a right-hand column's label boxed with the left-hand value); a label
   word deep inside a long value (``民族路``) is not a label;
3. for labels still missing, a label printed in pieces one under another: wrapped in a narrow
   table cell (``法定代`` over ``表人``) or set vertically, one character per line
   (``经``/``营``/``范``/``围``). Each piece is a whole token, the pieces lie in one column and
   follow each other closely down the page.

A hit keeps the label as the kind defines it (without blanks), so a field always reports its
canonical label; what was actually read there is kept only as detail.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from matcher.extract.rows import Row

if TYPE_CHECKING:
    from matcher.extract.kinds import DocKind

__all__ = ["Hit", "contains_tolerantly", "find_labels", "label_texts"]

_PASS2_MAX_GAP = 8  # characters of value allowed between a label and a label glued after it
_COLONS = ":："
# Pass 3: how far (in row heights) the next piece of a label may lie below the previous one, and
# how far its left edge or centre may stray from the column of the first piece.
_PIECE_STEP = 2.6
_PIECE_ALIGN = 1.0


def _max_edits(length: int) -> int:
    return 0 if length <= 3 else 1 if length <= 5 else 2


def contains_tolerantly(text: str, word: str) -> bool:
    """``word`` is in ``text``, exactly or (for words of 4+ characters) with 1–2 characters off."""
    word = "".join(word.split())
    if word in text:
        return True
    edits = _max_edits(len(word))
    if not edits or len(text) < len(word) - edits:
        return False
    cutoff = 100 * (len(word) - edits) / len(word) - 0.01
    if fuzz.partial_ratio(word, text, score_cutoff=cutoff) == 0:
        return False
    # partial_ratio is a cheap filter; confirm with a real edit distance over nearby windows.
    return any(
        Levenshtein.distance(word, text[start : start + size], score_cutoff=edits) <= edits
        for size in range(len(word) - edits, len(word) + edits + 1)
        for start in range(max(len(text) - size, 0) + 1)
    )


@dataclass(frozen=True)
class Hit:
    """Where a label (or an unlabelled field's value, ``label == ""``) lies on a row.

    ``pieces`` are the further parts of a label printed over several lines, as (row, start, end).
    """

    row: int
    start: int
    end: int
    label: str  # the label as the kind defines it, without blanks; "" for a pattern's match
    exact: bool
    pieces: tuple[tuple[int, int, int], ...] = ()

    def read(self, rows: Sequence[Row]) -> str:
        """The characters read where the label is, pieces included."""
        parts = [(self.row, self.start, self.end), *self.pieces]
        return "".join(c.char for r, s, e in parts for c in rows[r].chars[s:e])


def label_texts(kind: DocKind) -> list[str]:
    """Every label of the kind, canonical and variants, then the labels it does not extract."""
    seen: dict[str, None] = {}
    for spec in kind.fields:
        for label in spec.labels:
            seen[label] = None
    for label in kind.other_labels:
        seen[label] = None
    return list(seen)


def find_labels(kind: DocKind, rows: Sequence[Row]) -> list[Hit]:
    """Every label hit on the rows, in reading order; label pieces are hits of no label too."""
    labels = label_texts(kind)
    hits = [hit for index, row in enumerate(rows) for hit in _token_start_hits(index, row, labels)]
    hits = _completed(rows, _without_surplus(kind, hits))
    hits += _glued_hits(kind, rows, hits)
    hits += _stacked_hits(kind, rows, hits)
    # The further pieces of a stacked label stop the values of other fields like a label does.
    hits += [Hit(r, s, e, "", True) for hit in hits for r, s, e in hit.pieces]
    return sorted(hits, key=hit_order)


def hit_order(hit: Hit) -> tuple[int, int]:
    return hit.row, hit.start


def _completed(rows: Sequence[Row], hits: Sequence[Hit]) -> list[Hit]:
    """Tolerant hits that read only the start of their label (``经营范`` read as one tall line)
    completed, where they can be, by the rest printed under them (``围``)."""
    claimed = {(h.row, i) for h in hits for i in range(h.start, h.end)}
    out = []
    tokens: list[list[_Token]] | None = None
    for hit in hits:
        read = hit.read(rows)  # a first-pass hit: one piece
        if hit.exact or not hit.label.startswith(read) or len(read) >= len(hit.label):
            out.append(hit)
            continue
        if tokens is None:
            tokens = [_tokens(rows, index) for index in range(len(rows))]
        head = _token(rows, hit.row, hit.start, hit.end)
        pieces = _follow(rows, tokens, head, hit.label, claimed)
        if pieces is None:
            out.append(hit)
            continue
        out.append(Hit(hit.row, hit.start, hit.end, hit.label, True, tuple(pieces)))
        claimed.update((r, i) for r, s, e in pieces for i in range(s, e))
    return out


def _without_surplus(kind: DocKind, hits: Sequence[Hit]) -> list[Hit]:
    """The hits less the tolerant ones of fields already found exactly as often as printed: a
    vertical 经营范围's first piece ``经营`` is not a second, misprinted 经营者."""
    exact: dict[str, int] = {}
    for hit in hits:
        if hit.exact:
            exact[hit.label] = exact.get(hit.label, 0) + 1
    kept = []
    for hit in hits:
        specs = [spec for spec in kind.fields if hit.label in spec.labels]
        if (
            not hit.exact
            and specs
            and all(
                sum(exact.get(label, 0) for label in spec.labels) >= spec.occurrence
                for spec in specs
            )
        ):
            continue
        kept.append(hit)
    return kept


def _boundaries(row: Row) -> frozenset[int]:
    text = row.text
    colon_stops = {i for i, ch in enumerate(text) if ch in _COLONS}
    return row.token_starts | colon_stops | {len(text)}


def _token_start_hits(index: int, row: Row, labels: Sequence[str]) -> list[Hit]:
    text, found, covered = row.text, [], 0
    boundaries = _boundaries(row)
    # Token starts where a label begins exactly: a tolerant match never runs across one, so a
    # value before a label ("潘雨" "身份证号码") is not read as a misprinted 公民身份证号码.
    exact_starts = frozenset(
        start for start in row.token_starts if any(text.startswith(lb, start) for lb in labels)
    )
    for start in sorted(row.token_starts):
        if start < covered:
            continue
        best = _best_label_at(text, start, boundaries, labels, exact_starts)
        if best is not None:
            end, label, exact = best
            found.append(Hit(index, start, end, label, exact))
            covered = end
    return found


def _best_label_at(
    text: str,
    start: int,
    boundaries: frozenset[int],
    labels: Sequence[str],
    exact_starts: frozenset[int] = frozenset(),
) -> tuple[int, str, bool] | None:
    # (score, exact, end, label): an exact label scores its length; a tolerant one loses 1.5 per
    # edit, so "出生日" before a value is 出生日期 with a dropped character, not 出生 + "日…".
    scored: list[tuple[float, bool, int, str]] = []
    for label in labels:
        size = len(label)
        if text.startswith(label, start):
            scored.append((float(size), True, start + size, label))
            continue
        edits = max(_max_edits(size), 1) if size > 1 else 0
        # Only characters lost or misread: a longer window would start to eat the value.
        for window in range(max(size - edits, 1), size + 1):
            end = start + window
            if end not in boundaries or end > len(text):
                continue
            if any(start < t < end for t in exact_starts):
                continue
            piece = text[start:end]
            if size <= 3 and not (window == size - 1 and _is_subsequence(piece, label)):
                continue  # short labels: only a dropped character, never a substitution
            distance = Levenshtein.distance(label, piece, score_cutoff=edits)
            if distance <= edits:
                scored.append((size - 1.5 * distance, False, end, label))
    if not scored:
        return None
    scored.sort(key=lambda s: (s[0], s[1], s[2]), reverse=True)
    score, exact, end, label = scored[0]
    if not exact and any(s[0] == score and s[3] != label for s in scored[1:]):
        return None  # "名" alone could be 姓名 or 名称: too little to tell
    return end, label, exact


def _is_subsequence(piece: str, label: str) -> bool:
    chars = iter(label)
    return all(ch in chars for ch in piece)


def _wanted(kind: DocKind, hits: Sequence[Hit]) -> dict[str, int]:
    """How many more printings of each field label are still to be found."""
    wanted: dict[str, int] = {}
    for spec in kind.fields:
        found = sum(1 for hit in hits if hit.label in spec.labels)
        for label in spec.labels:
            wanted[label] = max(wanted.get(label, 0), spec.occurrence - found)
    return wanted


def _glued_hits(kind: DocKind, rows: Sequence[Row], hits: Sequence[Hit]) -> list[Hit]:
    """Pass 2: labels still missing, found glued right after a short value (``性别男民族汉``)."""
    wanted = _wanted(kind, hits)
    added: list[Hit] = []
    by_row: dict[int, list[Hit]] = {}
    for hit in hits:
        by_row.setdefault(hit.row, []).append(hit)
    for index, row in enumerate(rows):
        text = row.text
        for label in sorted(wanted, key=len, reverse=True):
            start = text.find(label)
            while start >= 0 and wanted[label] > 0:
                taken = by_row.get(index, [])
                before = [h.end for h in taken if h.end <= start]
                overlaps = any(h.start < start + len(label) and start < h.end for h in taken)
                end = start + len(label)
                if (
                    before
                    and not overlaps
                    and (start - max(before) <= _PASS2_MAX_GAP or _ends_before_value(row, end))
                ):
                    hit = Hit(index, start, end, label, True)
                    by_row.setdefault(index, []).append(hit)
                    added.append(hit)
                    wanted[label] -= 1
                start = text.find(label, start + 1)
    return added


def _ends_before_value(row: Row, end: int) -> bool:
    """The label ends its token and another token follows on the row: a two-column row whose
    right-hand label the detector boxed together with the left-hand value
    (``有限责任公司（自然人投资或控股）成立日期`` then ``2017年03月10日``)."""
    return end in row.token_starts and end < len(row.chars)


# ── pass 3: labels printed in pieces, one under another ──────────────────────────────────────


@dataclass(frozen=True)
class _Token:
    row: int
    start: int
    end: int
    text: str
    x0: float
    x1: float
    y0: float
    y1: float


def _token(rows: Sequence[Row], index: int, start: int, end: int) -> _Token:
    """Row ``index``'s characters ``start:end`` as a token, with the box around them."""
    chars = rows[index].chars[start:end]
    return _Token(
        index,
        start,
        end,
        "".join(c.char for c in chars),
        chars[0].box.x0,
        chars[-1].box.x1,
        min(c.box.y0 for c in chars),
        max(c.box.y1 for c in chars),
    )


def _tokens(rows: Sequence[Row], index: int) -> list[_Token]:
    row = rows[index]
    starts = sorted(row.token_starts)
    ends = [*starts[1:], len(row.chars)]
    return [_token(rows, index, start, end) for start, end in zip(starts, ends, strict=True)]


def _stacked_hits(kind: DocKind, rows: Sequence[Row], hits: Sequence[Hit]) -> list[Hit]:
    """Pass 3: labels still missing, printed in pieces down one column."""
    wanted = {label: n for label, n in _wanted(kind, hits).items() if n > 0}
    if not wanted:
        return []
    claimed = {(h.row, i) for h in hits for i in range(h.start, h.end)}
    tokens = [_tokens(rows, index) for index in range(len(rows))]
    added: list[Hit] = []
    for label in sorted(wanted, key=len, reverse=True):
        for index in range(len(rows)):
            if wanted[label] <= 0:
                break
            for head in tokens[index]:
                if not (0 < len(head.text) < len(label) and label.startswith(head.text)):
                    continue
                if any((index, i) in claimed for i in range(head.start, head.end)):
                    continue
                pieces = _follow(rows, tokens, head, label, claimed)
                if pieces is None:
                    continue
                hit = Hit(index, head.start, head.end, label, True, tuple(pieces))
                added.append(hit)
                for r, s, e in [(index, head.start, head.end), *pieces]:
                    claimed.update((r, i) for i in range(s, e))
                wanted[label] -= 1
                break
    return added


def _follow(
    rows: Sequence[Row],
    tokens: Sequence[Sequence[_Token]],
    head: _Token,
    label: str,
    claimed: set[tuple[int, int]],
) -> list[tuple[int, int, int]] | None:
    """The pieces under ``head`` that complete ``label``, or None."""
    rest = label[len(head.text) :]
    last = head.row
    # Where the last piece lies: the head's own box, which may be taller than its row (a label
    # read as one tall line beside two lines of its value), then each piece's row.
    last_centre, last_height = (head.y0 + head.y1) / 2, head.y1 - head.y0
    pieces: list[tuple[int, int, int]] = []
    centre = (head.x0 + head.x1) / 2
    while rest:
        found = None
        for index in range(last + 1, len(rows)):
            if rows[index].page != rows[head.row].page:
                return None
            height = max(rows[index].height, last_height)
            if _centre(rows[index]) - last_centre > _PIECE_STEP * height:
                return None
            tolerance = _PIECE_ALIGN * height
            for token in tokens[index]:
                aligned = abs(token.x0 - head.x0) <= tolerance or (
                    abs((token.x0 + token.x1) / 2 - centre) <= tolerance
                )
                if not aligned or any((index, i) in claimed for i in range(token.start, token.end)):
                    continue
                # A whole token that continues the label, or the label's end glued to its value.
                if rest.startswith(token.text):
                    found = (index, token.start, token.end)
                elif token.text.startswith(rest):
                    found = (index, token.start, token.start + len(rest))
                break
            if found is not None:
                break
        if found is None:
            return None
        pieces.append(found)
        rest = rest[found[2] - found[1] :]
        last = found[0]
        last_centre, last_height = _centre(rows[last]), rows[last].height
    return pieces


def _centre(row: Row) -> float:
    return (row.top + row.bottom) / 2
