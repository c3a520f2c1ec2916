"""The application list and page: masked ID numbers, search, and the recorded reveal."""

from __future__ import annotations

from matcher.sandbox import load_holders
from tests.ui.conftest import Workbench, csrf_of

ZHANG = load_holders()["zhang_wei"].id
MASKED = ZHANG[:6] + "********" + ZHANG[-4:]


def test_the_list_shows_id_numbers_masked_and_finds_by_number_or_id(workbench: Workbench) -> None:
    workbench.add_user("clerk")
    workbench.check("LIST-1")
    workbench.check("LIST-2", holder="li_na")
    with workbench.client() as client:
        workbench.sign_in(client, "clerk")
        page = client.get("/ui/applications")
        assert "LIST-1" in page.text and "LIST-2" in page.text
        assert MASKED in page.text and ZHANG not in page.text
        by_number = client.get("/ui/applications", params={"q": ZHANG})
        assert "LIST-1" in by_number.text and "LIST-2" not in by_number.text
        assert ZHANG not in by_number.text.replace(f'value="{ZHANG}"', "")
        by_id = client.get("/ui/applications.json", params={"q": "LIST-2"}).json()
        assert [a["application_id"] for a in by_id["applications"]] == ["LIST-2"]
        none = client.get("/ui/applications", params={"q": "NO-SUCH"})
        assert "没有找到与“NO-SUCH”相符的申请" in none.text


def test_the_full_number_shows_only_when_asked_and_the_asking_is_recorded(
    workbench: Workbench,
) -> None:
    workbench.add_user("clerk")
    check = workbench.check("REVEAL-1")
    key = check["check_id"]
    with workbench.client() as client:
        workbench.sign_in(client, "clerk")
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


def test_the_page_lists_each_material_with_its_decision_and_evidence(workbench: Workbench) -> None:
    workbench.add_user("clerk")
    check = workbench.check("PAGE-1")
    waived = [d for d in check["decisions"] if d["decision"] == "waive"]
    assert waived
    with workbench.client() as client:
        workbench.sign_in(client, "clerk")
        page = client.get(f"/ui/applications/{check['check_id']}").text
    assert ZHANG not in page  # the ID card's number is the holder's: masked there too
    for d in check["decisions"]:
        assert d["material_name"] in page
        assert d["reason"].replace(ZHANG, MASKED) in page
    shown = [e["number"] or e["id"] for d in waived for e in d["evidence"]]
    numbers = [n for n in shown if ZHANG not in n]
    assert numbers and all(n in page for n in numbers)
    assert page.count("✓ 已核验") >= len(waived) and 'class="tag waive">免交' in page


def test_an_unknown_application_is_a_404_page(workbench: Workbench) -> None:
    workbench.add_user("clerk")
    with workbench.client() as client:
        workbench.sign_in(client, "clerk")
        r = client.get("/ui/applications/no-such-key")
        assert r.status_code == 404 and "没有找到申请 no-such-key" in r.text
        assert client.get("/ui/applications/no-such-key.json").status_code == 404
