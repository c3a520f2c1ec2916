"""No holder's ID number rests in clear: after waive-checks and applications through the service,
neither the database (SQLite's file and its write-ahead log, PostgreSQL's rows) nor Redis holds
one, while the service still finds a holder's usage records and applications by the number."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import redis

from matcher.store.applications import ApplicationStore
from tests.api.conftest import ApiFactory, Sandbox, applicant
from tests.conftest import numbers_in_rows

PEOPLE = ("zhang_wei", "li_na", "lin_hai")


def _redis_db(redis_url: str, db: int) -> str:
    """The same server, a database of this test's own (emptied first)."""
    url = redis_url.rsplit("/", 1)[0] + f"/{db}"
    redis.Redis.from_url(url).flushdb()
    return url


def _in_redis(url: str, numbers: list[str]) -> list[str]:
    client = redis.Redis.from_url(url)
    found = []
    for key in client.scan_iter():
        kind = client.type(key)
        values: list[bytes] = [key]
        if kind == b"string":
            values.append(client.get(key) or b"")
        elif kind == b"hash":
            for k, v in client.hgetall(key).items():
                values += [k, v]
        elif kind == b"list":
            values += client.lrange(key, 0, -1)
        elif kind in (b"set", b"zset"):
            values += list(client.smembers(key)) if kind == b"set" else client.zrange(key, 0, -1)
        if any(n.encode() in v for v in values for n in numbers):
            found.append(key.decode("utf-8", "replace"))
    assert client.dbsize() > 0  # the cache was used: there was something to look at
    return found


def _in_rows(api: Any, numbers: list[str]) -> list[str]:
    store = api.records()
    try:
        return numbers_in_rows(store.engine, numbers)
    finally:
        store.close()


def _use_the_service(api: Any, holders: dict[str, Any]) -> list[str]:
    numbers = []
    for key in PEOPLE:
        holder = holders[key]
        numbers.append(holder.id)
        body = {
            "matter_code": "ent-establish",
            "applicant": applicant(holder),
            "application_id": f"AT-REST-{uuid.uuid4().hex[:8]}",
        }
        checked = api.check(body)
        assert checked.status_code == 200, checked.text
        kept = api.client.post(
            "/v1/applications", json={**body, "application_id": body["application_id"] + "-A"}
        )
        assert kept.status_code in (200, 201), kept.text
    # the same checks again: answered from the cache this time
    for key in PEOPLE:
        again = api.check({"matter_code": "ent-establish", "applicant": applicant(holders[key])})
        assert again.status_code == 200
    return numbers


def _still_found(api: Any, holder: Any) -> None:
    usage = api.client.get("/v1/usage", params={"holder_id": holder.id})
    assert usage.status_code == 200 and len(usage.json()["items"]) >= 3, usage.text
    records = api.records()
    try:
        found = ApplicationStore(records, api.privacy.sealer).recent(search=holder.id.lower())
    finally:
        records.close()
    assert found and {a.holder_id for a in found} == {holder.id}
    assert {a.holder_name for a in found} == {holder.name}


def test_sqlite_and_redis_keep_no_number_in_clear(
    sandbox: Sandbox,
    make_api: ApiFactory,
    holders: dict[str, Any],
    redis_url: str,
    tmp_path: Path,
) -> None:
    cache = _redis_db(redis_url, 11)
    database = tmp_path / "data" / "matcher.db"
    database.parent.mkdir()
    api = make_api(sandbox, database_url=f"sqlite:///{database}", redis_url=cache)
    numbers = _use_the_service(api, holders)
    _still_found(api, holders["zhang_wei"])
    # The file as a stolen backup would have it: the database and its write-ahead log.
    for path in database.parent.iterdir():
        raw = path.read_bytes()
        assert not [n for n in numbers if n.encode() in raw], path.name
    assert _in_redis(cache, numbers) == []


def test_postgresql_rows_keep_no_number_in_clear(
    sandbox: Sandbox,
    make_api: ApiFactory,
    holders: dict[str, Any],
    fresh_postgres_url: str,
) -> None:
    api = make_api(sandbox, database_url=fresh_postgres_url)
    numbers = _use_the_service(api, holders)
    _still_found(api, holders["li_na"])
    assert _in_rows(api, numbers) == []


@pytest.mark.parametrize("number", ["330902198103150314"])
def test_a_reason_shows_an_id_card_number_masked(
    sandbox: Sandbox, make_api: ApiFactory, holders: dict[str, Any], number: str
) -> None:
    api = make_api(sandbox)
    holder = holders["zhang_wei"]
    assert holder.id == number
    body = api.check({"matter_code": "ent-establish", "applicant": applicant(holder)}).json()
    reasons = " ".join(d["reason"] for d in body["decisions"])
    assert "330902********0314" in reasons
    assert number not in reasons
