"""The application list and page: masked ID numbers, search, the recorded reveal, the checklist
and the badged form, settling fields, confirming, the PDF and the print view."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pymupdf
from PIL import Image

from matcher.sandbox import load_holders
from tests.extract.corpus import make_samples
from tests.ui.conftest import Workbench, csrf_of

ZHANG = load_holders()["zhang_wei"].id
MASKED = ZHANG[:6] + "********" + ZHANG[-4:]


@contextmanager
def _signed_in(workbench: Workbench, role: str = "window") -> Iterator[httpx.Client]:
    workbench.add_user("clerk", role)
    with workbench.client() as client:
        workbench.sign_in(client, "clerk")
        yield client


def test_the_list_shows_id_numbers_masked_and_finds_by_number_or_id(workbench: Workbench) -> None:
    workbench.submit("LIST-1")
    workbench.submit("LIST-2", holder="xu_li", matter="indiv-establish")
    with _signed_in(workbench) as client:
        page = client.get("/ui/applications")
        assert "LIST-1" in page.text and "LIST-2" in page.text and "企业设立登记" in page.text
        assert MASKED in page.text and ZHANG not in page.text
        by_number = client.get("/ui/applications", params={"q": ZHANG})
        assert "LIST-1" in by_number.text and "LIST-2" not in by_number.text
        assert ZHANG not in by_number.text.replace(f'value="{ZHANG}"', "")
        by_id = client.get("/ui/applications.json", params={"q": "LIST-2"}).json()
        assert [a["application_id"] for a in by_id["applications"]] == ["LIST-2"]
        assert ZHANG not in client.get("/ui/applications.json").text
        none = client.get("/ui/applications", params={"q": "NO-SUCH"})
        assert "没有找到与“NO-SUCH”相符的申请" in none.text


def test_the_full_number_shows_only_when_asked_and_the_asking_is_recorded(
    workbench: Workbench,
) -> None:
    app = workbench.submit("REVEAL-1")
    key = app["id"]
    with _signed_in(workbench) as client:
        page = client.get(f"/ui/applications/{key}")
        assert page.status_code == 200 and MASKED in page.text and ZHANG not in page.text
        assert ZHANG not in client.get(f"/ui/applications/{key}.json").text
        shown = client.post(
            f"/ui/applications/{key}/reveal", data={"csrf_token": csrf_of(page.text)}
        )
        assert shown.status_code == 200 and ZHANG in shown.text
        assert ZHANG not in client.get(f"/ui/applications/{key}").text  # once, not from now on
    records, users = workbench.store()
    try:
        trail = users.audit_trail(subject=key)
    finally:
        records.close()
    assert [(e.username, e.action, e.detail["application_id"]) for e in trail] == [
        ("clerk", "reveal_holder_id", "REVEAL-1")
    ]


def test_the_page_shows_decisions_evidence_and_a_badge_per_value(workbench: Workbench) -> None:
    app = workbench.submit("PAGE-1")
    waived = [d for d in app["check"]["decisions"] if d["decision"] == "waive"]
    with _signed_in(workbench) as client:
        page = client.get(f"/ui/applications/{app['id']}").text
    assert ZHANG not in page  # the ID card's number is the holder's: masked there too
    for d in app["check"]["decisions"]:
        assert d["material_name"] in page
        assert d["reason"].replace(ZHANG, MASKED) in page
    shown = [e["number"] or e["id"] for d in waived for e in d["evidence"]]
    assert all(n in page for n in shown if ZHANG not in n)
    assert page.count("✓ 已核验") >= len(waived)
    fields = {f["key"]: f for f in app["form"]["fields"]}
    # one row per field, its value as printed and the badge of its source
    assert "舟山港伟船舶服务有限公司" in page and "100万元" in page
    assert 'id="f-lr_native_region" class="fs-filled"' in page
    row = page[page.index('id="f-lr_native_region"') :][:1500]
    assert "浙江省舟山市定海区" in row and ">推导<" in row
    row = page[page.index('id="f-lr_birth_date"') :][:1500]
    assert fields["lr_birth_date"]["value"] in row and ">电子证照<" in row
    assert 'id="f-lr_mobile" class="fs-missing"' in page


def _conflicting_application(workbench: Workbench, app_id: str) -> tuple[dict[str, Any], Any]:
    other = make_samples("id_card_front", 3)[2]  # somebody else's card, as a born-digital PDF
    file_id = workbench.upload(other.pdf_bytes)
    uploads = [{"material_code": "legal-rep-id", "file_id": file_id}]
    return workbench.submit(app_id, uploads=uploads), other


def test_a_conflict_is_settled_a_missing_field_typed_and_the_form_confirmed(
    workbench: Workbench,
) -> None:
    app, other = _conflicting_application(workbench, "FLOW-1")
    key = app["id"]
    with _signed_in(workbench) as client:
        page = client.get(f"/ui/applications/{key}").text
        # neither ID number shows in full: not in the form, the checklist or the upload's notes
        assert ZHANG not in page and other.truth["id_number"] not in page
        assert 'id="f-lr_name" class="fs-conflict"' in page
        row = page[page.index('id="f-lr_name"') :][:3000]
        assert "张伟" in row and other.truth["name"] in row and ">上传材料识别" in row
        token = csrf_of(page)
        # confirming now is refused, with every reason listed at the top
        early = client.post(f"/ui/applications/{key}/confirm", data={"csrf_token": token})
        assert early.status_code == 400
        assert "尚不能确认" in early.text and "必填" in early.text and "请选择" in early.text
        # a typed value that fails its check is refused inline, and kept in the box
        bad = client.post(
            f"/ui/applications/{key}/fields/lr_mobile", data={"csrf_token": token, "value": "1380"}
        )
        assert bad.status_code == 400 and 'class="field-error"' in bad.text
        assert 'value="1380"' in bad.text and 'href="#f-lr_mobile"' in bad.text
        check = client.get(
            f"/ui/applications/{key}/fields/lr_mobile/check.json", params={"value": "1380"}
        ).json()
        assert check["valid"] is False and check["reason"]
        ok = client.post(
            f"/ui/applications/{key}/fields/lr_mobile",
            data={"csrf_token": token, "value": "13805801234"},
        )
        assert ok.status_code == 303
        conflicts = [f["key"] for f in app["form"]["fields"] if f["conflict"]]
        assert "lr_name" in conflicts
        assert all(f'href="#f-{k}"' in early.text for k in [*conflicts, "lr_mobile"])
        for k in conflicts:  # keep the verified registry's value
            chose = client.post(
                f"/ui/applications/{key}/fields/{k}", data={"csrf_token": token, "choice": "0"}
            )
            assert chose.status_code == 303
        review = client.get(f"/ui/applications/{key}/confirm")
        assert "13805801234" in review.text and "张伟" in review.text
        done = client.post(f"/ui/applications/{key}/confirm", data={"csrf_token": token})
        assert done.status_code == 303
        assert done.headers["location"].endswith("msg=confirmed")
        state = client.get(f"/ui/applications/{key}.json").json()
        assert state["status"] == "confirmed" and state["confirmation"]["by"] == "clerk"
        assert state["confirmation"]["values"]["lr_mobile"] == "13805801234"
        changed = {c["key"]: c["how"] for c in state["confirmation"]["changes"]}
        assert changed == {"lr_mobile": "typed"}  # keeping the registry's name is no change
        pdf = client.get(f"/ui/applications/{key}/form.pdf")
        assert pdf.headers["content-type"] == "application/pdf"
        text = "".join(p.get_text() for p in pymupdf.open(stream=io.BytesIO(pdf.content)))
        assert "13805801234" in text and "张伟" in text and "舟山港伟船舶服务有限公司" in text
        printed = client.get(f"/ui/applications/{key}/print").text
        assert "13805801234" in printed and ZHANG in printed  # the paper form is in full
        again = client.post(
            f"/ui/applications/{key}/fields/lr_mobile",
            data={"csrf_token": token, "value": "13900000000"},
        )
        assert again.status_code == 409
    records, users = workbench.store()
    try:
        actions = [e.action for e in users.audit_trail(subject=key)]
    finally:
        records.close()
    assert {"confirm", "download_form", "print_form"} <= set(actions)


def test_pdf_and_print_wait_for_confirmation(workbench: Workbench) -> None:
    app = workbench.submit("EARLY-1")
    with _signed_in(workbench) as client:
        for what in ("form.pdf", "print"):
            r = client.get(f"/ui/applications/{app['id']}/{what}")
            assert r.status_code == 409 and "请先核对并确认" in r.text


def test_an_upload_shows_its_fields_boxed_on_the_scan(workbench: Workbench) -> None:
    app, other = _conflicting_application(workbench, "SCAN-1")
    file_id = next(d["upload"]["file_id"] for d in app["check"]["decisions"] if d["upload"])
    with _signed_in(workbench) as client:
        page = client.get(f"/ui/applications/{app['id']}/uploads/{file_id}")
        assert page.status_code == 200 and other.truth["name"] in page.text
        image = client.get(f"/ui/applications/{app['id']}/uploads/{file_id}/page-0.png")
        assert image.headers["content-type"] == "image/png"
        img = Image.open(io.BytesIO(image.content)).convert("RGB")
        orange = sum(1 for px in img.get_flattened_data() if px == (188, 76, 0))
        assert orange > 100  # the boxes are drawn
        assert client.get(f"/ui/applications/{app['id']}/uploads/f_{'0' * 32}").status_code == 404


def test_an_unknown_application_is_a_404_page(workbench: Workbench) -> None:
    with _signed_in(workbench) as client:
        r = client.get("/ui/applications/no-such-key")
        assert r.status_code == 404 and "没有找到申请 no-such-key" in r.text
        assert client.get("/ui/applications/no-such-key.json").status_code == 404


def test_a_clerk_sees_only_their_departments_applications_and_a_window_sees_all(
    workbench: Workbench,
) -> None:
    amr = workbench.submit("SCOPE-AMR")  # 企业设立登记: 市场监督管理局
    nrp = workbench.submit("SCOPE-NRP", holder="yang_fan", matter="re-change-name")  # 自然资源
    yang = load_holders()["yang_fan"].id
    workbench.add_user("amr-clerk", "clerk", "zs-amr")
    workbench.add_user("nrp-clerk", "clerk", "ZS-NRP")  # department codes are not case-bound
    workbench.add_user("window-1", "window")
    workbench.add_user("nobody-clerk", "clerk")  # no department: sees nothing, and is told so

    def sees(name: str) -> tuple[set[str], str]:
        with workbench.client() as client:
            assert workbench.sign_in(client, name).status_code == 303
            listed = client.get("/ui/applications.json").json()["applications"]
            page = client.get("/ui/applications").text
            # another department's application is not found, by its page, its JSON twin, its
            # PDF or a reveal; nor by a search for its holder's number
            for app in (amr, nrp):
                shown = {a["application_id"] for a in listed}
                status = client.get(f"/ui/applications/{app['id']}").status_code
                assert status == (200 if app["application_id"] in shown else 404), (name, app)
                if app["application_id"] not in shown:
                    assert client.get(f"/ui/applications/{app['id']}.json").status_code == 404
                    revealed = client.post(
                        f"/ui/applications/{app['id']}/reveal",
                        data={"csrf_token": csrf_of(page)},
                    )
                    assert revealed.status_code == 404 and yang not in revealed.text
            found = client.get("/ui/applications.json", params={"q": yang}).json()
            assert {a["application_id"] for a in found["applications"]} <= shown
            return shown, page

    shown, page = sees("amr-clerk")
    assert shown == {"SCOPE-AMR"} and "只显示舟山市市场监督管理局办理事项的申请" in page
    shown, page = sees("nrp-clerk")
    assert shown == {"SCOPE-NRP"} and "只显示舟山市自然资源和规划局办理事项的申请" in page
    shown, page = sees("window-1")
    assert shown == {"SCOPE-AMR", "SCOPE-NRP"} and "显示各部门事项的申请" in page
    shown, page = sees("nobody-clerk")
    assert shown == set() and "未设所属部门" in page


def test_the_page_says_whether_no_touch_approval_is_met(workbench: Workbench) -> None:
    met = workbench.submit("AUTO-UI-1", matter="social-insurance-proof")
    unmet = workbench.submit("AUTO-UI-2", holder="wang_fang", matter="social-insurance-proof")
    with _signed_in(workbench) as client:
        page = client.get(f"/ui/applications/{met['id']}").text
        assert 'id="auto-approval"' in page and '智能秒办：<b class="ok">符合条件</b>' in page
        page = client.get(f"/ui/applications/{unmet['id']}").text
        assert "不符合条件" in page and "居民身份证或社会保障卡" in page
        plain = client.get(f"/ui/applications/{workbench.submit('AUTO-UI-3')['id']}").text
        assert 'id="auto-approval"' not in plain  # 企业设立登记 is not marked for it
