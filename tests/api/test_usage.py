"""GET /v1/usage: a holder sees who used their records (用证记录), when and for what."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

from tests.api.conftest import Api, ApiFactory, Sandbox, applicant

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

    schema = json.loads((SCHEMAS / "usage-response.schema.json").read_text())

    def walk(holder_id: str, limit: int) -> list[dict[str, Any]]:
        """Every record, page by page (the database may hold earlier tests' records too)."""
        items: list[dict[str, Any]] = []
        cursor = 0
        while True:
            r = api.client.get(
                "/v1/usage", params={"holder_id": holder_id, "limit": limit, "cursor": cursor}
            )
            assert r.status_code == 200
            page = r.json()
            jsonschema.validate(page, schema)
            assert page["holder_id_masked"] == holder_id[:6] + "********" + holder_id[-4:]
            items += page["items"]
            if page["next_cursor"] is None:
                return items
            cursor = page["next_cursor"]

    everything = walk(zhang.id, 500)
    ours = [i for i in everything if i["check_id"] in mine]
    assert {i["requester"] for i in ours} == {"zs-amr-ywxt", "zs-gjj-ywxt"}
    assert all(i["matter_code"] == "ent-establish" for i in ours)
    assert any(i["outcome"] == "found" and i["verified"] for i in ours)
    assert all(i["used_at"].endswith("+08:00") or i["used_at"].endswith("Z") for i in ours)
    seqs = [i["seq"] for i in everything]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    # small pages walk the same records, none twice
    assert [i["seq"] for i in walk(zhang.id, 7)] == seqs
    # li_na's records are not zhang_wei's business
    assert not {i["check_id"] for i in walk(li.id, 500)} & set(mine)


def test_a_wrong_id_number_is_refused_with_the_field(api: Api) -> None:
    r = api.client.get("/v1/usage", params={"holder_id": "330902198103150315"})
    assert r.status_code == 422 and r.json()["field"] == "holder_id"
    r = api.client.get("/v1/usage", params={"holder_id": "x" * 40})
    assert r.status_code == 422
    r = api.client.get("/v1/usage")
    assert r.status_code == 422


def test_the_service_signs_a_checkpoint_of_the_chain_while_it_records(
    sandbox: Sandbox, make_api: ApiFactory, holders: dict[str, Any], tmp_path: Path
) -> None:
    import time

    from matcher.store.checkpoints import checkpoint_file, latest_checkpoint

    folder = tmp_path / "kept-elsewhere"
    api = make_api(sandbox, checkpoint_interval_s=0.2, checkpoint_dir=folder)
    path = checkpoint_file(folder, api.database_url)
    for n in range(2):
        r = api.check({"matter_code": "ent-establish", "applicant": applicant(holders["li_na"])})
        assert r.status_code == 200
        store = api.records()
        try:
            head = store.verify_usage_chain().records
        finally:
            store.close()
        deadline = time.monotonic() + 10
        while (found := latest_checkpoint(path)) is None or found.seq < head:
            assert time.monotonic() < deadline, f"no checkpoint of #{head} (round {n})"
            time.sleep(0.05)
        assert found.seq == head and found.signature
