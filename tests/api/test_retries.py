"""A business system retrying an application while the first copy still runs, as in production:
``matcher serve --workers 2`` in its own processes, the sandbox over real HTTP, copies of one
application sent at once beside other applicants' checks."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from matcher.store.records import Records
from tests.api.conftest import Served, applicant
from tests.conftest import state_privacy

ROUNDS = 8
COPIES = 4
OTHERS = 6


def _send(url: str, body: dict[str, Any]) -> httpx.Response:
    # A connection of its own per request, as separate client retries would: the kernel spreads
    # them over both worker processes.
    return httpx.post(
        f"{url}/v1/waive-check", json=body, headers={"X-Requester": "zs-amr-ywxt"}, timeout=30
    )


@pytest.mark.parametrize("storage", ["sqlite", "postgresql+redis"])
def test_retried_copies_get_one_answer_and_never_fail_other_checks(
    storage: str,
    served: Served,
    tmp_path: Path,
    holders: dict[str, Any],
    request: pytest.FixtureRequest,
) -> None:
    if storage == "sqlite":
        database_url, redis_url = f"sqlite:///{tmp_path / 'matcher.db'}", None
    else:
        database_url = request.getfixturevalue("postgres_url")
        redis_url = request.getfixturevalue("redis_url")
    url = served(database_url, redis_url)
    people = [holders[k] for k in ("zhang_wei", "li_na", "lin_hai", "wu_jianguo")]
    answered: list[str] = []
    with ThreadPoolExecutor(COPIES + OTHERS) as pool:
        for round_no in range(ROUNDS):
            retried = {
                "matter_code": "ent-establish",
                "applicant": applicant(people[round_no % len(people)]),
                "application_id": f"RETRY-{round_no}-{uuid.uuid4().hex[:8]}",
            }
            others = [
                {
                    "matter_code": "ent-establish",
                    "applicant": applicant(people[(round_no + i) % len(people)]),
                    **({"application_id": f"OTHER-{uuid.uuid4().hex[:12]}"} if i % 3 else {}),
                }
                for i in range(OTHERS)
            ]
            bodies = [retried] * COPIES + others
            # Interleave the copies with the others, so they land in shared group commits.
            order = [0, 4, 1, 5, 6, 2, 7, 8, 3, 9]
            futures = {i: pool.submit(_send, url, bodies[i]) for i in order}
            responses = {i: f.result() for i, f in futures.items()}
            failed = {i: r.text for i, r in responses.items() if r.status_code != 200}
            assert not failed, f"round {round_no}: non-200 answers {failed}"
            copies = {responses[i].content for i in range(COPIES)}
            assert len(copies) == 1, f"round {round_no}: the copies got different answers"
            answered += {r.json()["check_id"] for r in responses.values()}
        # A later retry, the first copies long recorded, still gets those bytes.
        again = _send(url, retried)
        assert again.status_code == 200 and again.content == responses[0].content

    # Nothing answered was lost: every answer's check is on record with its usage records.
    store = Records(database_url, state_privacy(tmp_path / "state"))
    try:
        for check_id in answered:
            assert store.get_check(check_id) is not None, check_id
            assert store.usage_for_check(check_id), check_id
    finally:
        store.close()
