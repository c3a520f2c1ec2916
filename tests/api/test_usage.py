"""GET /v1/usage: a holder sees who used their records (用证记录), when and for what."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

from tests.api.conftest import Api, applicant

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def test_a_holder_sees_every_use_of_their_records_page_by_page(
    api: Api, holders: dict[str, Any]
) -> None:
    zhang, li = holders["zhang_wei"], holders["li_na"]
    mine = []
    for n, requester in enumerate(("zs-amr-ywxt", "zs-gjj-ywxt")):
        body = {
            "matter_code": "ent-establish",
            "applicant": applicant(zhang),
            "application_id": f"USAGE-{requester}-{api.url[-5:]}-{n}",
        }
        r = api.check(body, headers={"X-Requester": requester})
        assert r.status_code == 200
        mine.append(r.json()["check_id"])
    api.check({"matter_code": "ent-establish", "applicant": applicant(li)})

    r = api.client.get("/v1/usage", params={"holder_id": zhang.id})
    assert r.status_code == 200
    body = r.json()
    jsonschema.validate(body, json.loads((SCHEMAS / "usage-response.schema.json").read_text()))
    assert body["holder_id_masked"] == zhang.id[:6] + "********" + zhang.id[-4:]
    ours = [i for i in body["items"] if i["check_id"] in mine]
    assert {i["requester"] for i in ours} == {"zs-amr-ywxt", "zs-gjj-ywxt"}
    assert all(i["matter_code"] == "ent-establish" for i in ours)
    assert any(i["outcome"] == "found" and i["verified"] for i in ours)
    seqs = [i["seq"] for i in body["items"]]
    assert seqs == sorted(seqs)
    assert all(i["used_at"].endswith("+08:00") or i["used_at"].endswith("Z") for i in ours)
    # li_na's records are not zhang_wei's business
    li_checks = {
        i["check_id"]
        for i in api.client.get("/v1/usage", params={"holder_id": li.id}).json()["items"]
    }
    assert not li_checks & set(mine)

    # paging walks the same records, none twice
    walked: list[int] = []
    cursor = 0
    while True:
        page = api.client.get(
            "/v1/usage", params={"holder_id": zhang.id, "limit": 5, "cursor": cursor}
        ).json()
        walked += [i["seq"] for i in page["items"]]
        if page["next_cursor"] is None:
            break
        cursor = page["next_cursor"]
    assert walked == seqs


def test_a_wrong_id_number_is_refused_with_the_field(api: Api) -> None:
    r = api.client.get("/v1/usage", params={"holder_id": "330902198103150315"})
    assert r.status_code == 422 and r.json()["field"] == "holder_id"
    r = api.client.get("/v1/usage", params={"holder_id": "x" * 40})
    assert r.status_code == 422
    r = api.client.get("/v1/usage")
    assert r.status_code == 422
