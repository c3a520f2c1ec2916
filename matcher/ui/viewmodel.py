"""What the application page shows, worked out here so the templates only lay it out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from matcher.applications.prefill import Candidate, PrefilledField, SourceRef
from matcher.applications.service import ApplicationResponse, FieldEdit
from matcher.applications.workbench import mask_ids_in

__all__ = ["Badge", "Choice", "FieldView", "SectionView", "form_view", "source_badge"]

DECISION_NAMES = {"waive": "免交", "require": "需提交", "review": "人工核查"}


@dataclass(frozen=True)
class Badge:
    css: str
    text: str
    note: str = ""  # what record and field, for the title attribute and the print view


def source_badge(source: SourceRef | None, confidence: float | None = None) -> Badge:
    """The badge of a value's source: 电子证照 / 数据凭证 / 上传材料识别 / 申请人填报 / 推导."""
    if source is None:
        return Badge("b-none", "无来源")
    # A surface label or data member is Chinese; a code name (number, id_type_name) says
    # nothing to a clerk, and the record's type already does.
    readable = source.field if source.field and not source.field.isascii() else None
    note = " · ".join(p for p in (source.type_name, readable) if p)
    if source.kind == "e_licence":
        return Badge("b-licence", "电子证照", note)
    if source.kind == "data_certificate":
        return Badge("b-cert", "数据凭证", note)
    if source.kind == "upload":
        shown = f"上传材料识别 {confidence:.0%}" if confidence is not None else "上传材料识别"
        return Badge("b-upload", shown, note)
    if source.kind == "derived":
        return Badge("b-derived", "推导", f"由{readable}推导" if readable else "由其他字段推导")
    return Badge("b-request", "申请人填报", note)


@dataclass(frozen=True)
class Choice:
    index: int  # 0: the pre-filled value; n: the n-th candidate
    value: str
    badge: Badge
    verified: bool


@dataclass
class FieldView:
    key: str
    label: str
    type: str
    required: bool
    value: str | None  # shown (masked unless revealed)
    badge: Badge | None
    verified: bool
    state: str  # filled | conflict | missing | edited | confirmed
    edited_by: str | None = None
    choices: list[Choice] = field(default_factory=list)
    unusable: list[tuple[str, Badge, str]] = field(default_factory=list)  # value, badge, why
    error: str | None = None
    typed: str = ""


@dataclass
class SectionView:
    title: str
    fields: list[FieldView]


def _candidate_badge(c: Candidate) -> Badge:
    return source_badge(c.source, c.confidence)


def _edit_badge(edit: FieldEdit, f: PrefilledField) -> Badge:
    if edit.how == "prefilled":
        return source_badge(f.source, f.confidence)
    if edit.how == "candidate":
        conf = next((c.confidence for c in f.candidates if c.source == edit.source), None)
        return source_badge(edit.source, conf)
    return Badge("b-request", "申请人填报", f"窗口录入（{edit.by}）")


def _show(value: str | None, reveal: bool) -> str | None:
    if value is None or reveal:
        return value
    shown: str = mask_ids_in(value)
    return shown


def form_view(
    app: ApplicationResponse,
    *,
    reveal: bool = False,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
) -> list[SectionView]:
    """The form's fields by section, each with what to show, its badge and what the clerk may do."""
    if app.form is None:
        return []
    errors, typed = errors or {}, typed or {}
    confirmed = app.confirmation.values if app.confirmation else None
    sections: dict[str, SectionView] = {}
    for f in app.form.fields:
        edit = app.edits.get(f.key)
        usable = [c for c in f.candidates if c.usable]
        view = FieldView(
            key=f.key,
            label=f.label,
            type=f.type,
            required=f.required,
            value=_show(f.value, reveal),
            badge=source_badge(f.source, f.confidence) if f.value is not None else None,
            verified=f.verified,
            state="filled",
            error=errors.get(f.key),
            typed=typed.get(f.key, ""),
            unusable=[
                (_show(c.value, reveal) or "", _candidate_badge(c), c.reason or "")
                for c in f.candidates
                if not c.usable
            ],
        )
        if confirmed is not None:
            view.state = "confirmed"
            view.value = _show(confirmed.get(f.key), reveal)
            if edit is not None:
                view.badge, view.edited_by = _edit_badge(edit, f), edit.by
        elif edit is not None:
            view.state = "edited"
            view.value = _show(edit.value, reveal)
            view.badge, view.edited_by = _edit_badge(edit, f), edit.by
            view.verified = edit.how != "typed" and (
                f.verified if edit.how == "prefilled" else _verified(f, edit)
            )
        elif f.conflict:
            view.state = "conflict"
        elif f.value is None:
            view.state = "missing"
        if view.state == "conflict" or (view.state == "edited" and usable):
            view.choices = [
                Choice(0, view_value(f.value, reveal), source_badge(f.source, f.confidence), True)
            ] + [
                Choice(i, view_value(c.value, reveal), _candidate_badge(c), c.verified)
                for i, c in enumerate(f.candidates, start=1)
                if c.usable
            ]
        sections.setdefault(f.section, SectionView(f.section, [])).fields.append(view)
    return list(sections.values())


def view_value(value: str | None, reveal: bool) -> str:
    return _show(value, reveal) or ""


def _verified(f: PrefilledField, edit: FieldEdit) -> bool:
    return any(c.verified for c in f.candidates if c.source == edit.source)


def choice_value(app: ApplicationResponse, key: str, index: int) -> str | None:
    """The value behind a choice on the page (choices carry an index, never a masked value)."""
    if app.form is None:
        return None
    f = next((x for x in app.form.fields if x.key == key), None)
    if f is None:
        return None
    if index == 0:
        return f.value
    if 1 <= index <= len(f.candidates) and f.candidates[index - 1].usable:
        return f.candidates[index - 1].value
    return None


def counts(sections: list[SectionView]) -> dict[str, int]:
    out: dict[str, int] = {"conflict": 0, "missing": 0}
    for s in sections:
        for f in s.fields:
            if f.state in out:
                out[f.state] += 1
    return out


def checklist(app: ApplicationResponse, reveal: bool) -> Any:
    """The check's decisions as JSON-like data, ID numbers masked unless revealed."""
    data = app.check.model_dump(mode="json")
    return data if reveal else mask_ids_in(data)
