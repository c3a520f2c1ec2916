"""Contract tests on what an adapter makes of records: raw, mapping, statuses, extras, file URLs."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from adapters.model import Evidence
from adapters.testing.base import ContractBase, Signer
from adapters.testing.rules import broken
from adapters.testing.support import ContractClock, contract_trust_store

if TYPE_CHECKING:
    import respx

__all__ = ["RecordRules", "mapping_problems"]

STATUS_WORDS = ("valid", "expired", "revoked", "suspended")
_KEY_ID = "contract-key-1"


def mapping_problems(
    evidence: Evidence, *, kind: str, registry: str, type_code: str, holder: Any
) -> list[str]:
    """What in ``evidence`` made from a valid-today sample record breaks the evidence model."""
    today = dt.date.today()
    found = []
    if evidence.kind != kind:
        found.append(f"kind is {evidence.kind!r}, the adapter serves {kind!r}")
    if evidence.registry != registry:
        found.append(f"registry is {evidence.registry!r}, not the configured {registry!r}")
    if not evidence.id.strip():
        found.append("id is empty")
    if evidence.type != type_code:
        found.append(f"type is {evidence.type!r}, the record's is {type_code!r}")
    if (evidence.holder.id_type, evidence.holder.id) != (holder.id_type, holder.id):
        found.append("holder is not the record's holder")
    if not evidence.issuer.name.strip():
        found.append("issuer.name is empty")
    if not (evidence.issuer.code or "").strip():
        found.append("issuer.code is empty: the trust store cannot tie the key to the issuer")
    if evidence.status not in STATUS_WORDS:
        found.append(f"status is {evidence.status!r}, not one of {', '.join(STATUS_WORDS)}")
    elif evidence.status != "valid":
        found.append(f"a record valid today came out {evidence.status!r}")
    if evidence.valid_from is not None and evidence.valid_from > today:
        found.append(f"valid_from {evidence.valid_from} is after today for a valid record")
    if evidence.valid_until is not None and evidence.valid_until < today:
        found.append(f"valid_until {evidence.valid_until} is before today for a valid record")
    if not evidence.fields:
        found.append("fields is empty: the surface or data was not mapped")
    for label, value in evidence.fields.items():
        if not isinstance(label, str) or not label.strip():
            found.append(f"fields has a label that is not text: {label!r}")
        if isinstance(value, dict | list):
            found.append(f"fields[{label!r}] is a {type(value).__name__}, not a value")
    if Evidence.model_validate_json(evidence.model_dump_json()) != evidence:
        found.append("the evidence changes through JSON (the cache stores it so)")
    return found


class RecordRules(ContractBase):
    """Records: raw kept, mapped onto the evidence model, statuses, extras and file URLs."""

    def _signer(self) -> tuple[Signer, Any]:
        from matcher.waiver.evidence import generate_key, sign_record

        key = generate_key("Ed25519")
        return (lambda record: sign_record(record, key, _KEY_ID)), key

    def _verify(self, evidence: Evidence, key: Any) -> Any:
        from matcher.waiver.evidence import verify_evidence

        return verify_evidence(
            evidence,
            contract_trust_store(key, _KEY_ID),
            holder_id_type=self.holder.id_type,
            holder_id=self.holder.id,
            expected_type=self.type_code,
            today=dt.date.today(),
        )

    async def _one(self, adapter: Any, *, what: str) -> Evidence:
        found = await self.lookup(adapter)
        assert len(found) == 1, broken("mapping", f"{what} gave {len(found)} evidence records")
        return found[0]

    @pytest.mark.anyio
    async def test_record_found_becomes_evidence(
        self, registry: respx.MockRouter, http_client: httpx.AsyncClient, clock: ContractClock
    ) -> None:
        record = self.sample_record(1)
        self.route(registry).mock(return_value=self.reply([record]))

        evidence = await self._one(self.make_adapter(http_client, clock), what="one record")

        assert evidence.raw == record, broken("raw-intact", "raw differs from the record sent")
        self.check_mapping(evidence, record)

    @pytest.mark.anyio
    async def test_mapping_follows_the_evidence_model(
        self, registry: respx.MockRouter, http_client: httpx.AsyncClient, clock: ContractClock
    ) -> None:
        self.route(registry).mock(return_value=self.reply([self.sample_record(1)]))

        evidence = await self._one(self.make_adapter(http_client, clock), what="one record")

        problems = mapping_problems(
            evidence,
            kind=self.adapter_class.kind,
            registry=self.registry_name,
            type_code=self.type_code,
            holder=self.holder,
        )
        assert not problems, broken("mapping", "; ".join(problems))

    @pytest.mark.anyio
    async def test_signed_record_still_verifies_after_the_adapter(
        self, registry: respx.MockRouter, http_client: httpx.AsyncClient, clock: ContractClock
    ) -> None:
        sign, key = self._signer()
        signed = sign(self.sample_record(1))
        self.route(registry).mock(return_value=self.reply([signed]))

        evidence = await self._one(self.make_adapter(http_client, clock), what="a signed record")

        result = self._verify(evidence, key)
        assert result.verified, broken(
            "raw-intact", f"a genuine signed record failed verification: {list(result.problems)}"
        )

    @pytest.mark.anyio
    async def test_tampered_record_fails_verification_after_the_adapter(
        self, registry: respx.MockRouter, http_client: httpx.AsyncClient, clock: ContractClock
    ) -> None:
        sign, key = self._signer()
        signed = sign({**self.sample_record(1), "x_protocol_addition": "original"})
        tampered = {**signed, "x_protocol_addition": "changed after signing"}
        self.route(registry).mock(return_value=self.reply([tampered]))

        evidence = await self._one(self.make_adapter(http_client, clock), what="a record")

        problems = tuple(self._verify(evidence, key).problems)
        assert problems == ("signature_invalid",), broken(
            "raw-intact", f"a record changed after signing verified as {list(problems)}"
        )

    @pytest.mark.anyio
    async def test_unknown_members_are_accepted_and_kept(
        self, registry: respx.MockRouter, http_client: httpx.AsyncClient, clock: ContractClock
    ) -> None:
        sign, key = self._signer()
        signed = sign(self.with_unknown_members(self.sample_record(1)))
        # Where the record sits in an envelope, the envelope gets an unknown member too.
        answer = self.reply([signed])
        if json.loads(answer.content) != signed:
            answer = self.with_member(answer, "x_contract_envelope", {"trace": "t-1"})
        self.route(registry).mock(return_value=answer)

        found = await self.lookup(self.make_adapter(http_client, clock))

        assert len(found) == 1, broken(
            "unknown-members", f"a record with unknown members gave {len(found)} records"
        )
        assert found[0].raw == signed, broken("unknown-members", "raw lost the unknown members")
        result = self._verify(found[0], key)
        assert result.verified, broken(
            "unknown-members", f"the record no longer verifies: {list(result.problems)}"
        )

    @pytest.mark.anyio
    @pytest.mark.parametrize("status", STATUS_WORDS)
    async def test_status_is_mapped_to_its_word(
        self,
        registry: respx.MockRouter,
        http_client: httpx.AsyncClient,
        clock: ContractClock,
        status: str,
    ) -> None:
        self.route(registry).mock(return_value=self.reply([self.status_record(1, status)]))

        evidence = await self._one(self.make_adapter(http_client, clock), what=f"a {status} record")

        assert evidence.status == status, broken(
            "status-mapped", f"a record the registry marks {status} came out {evidence.status!r}"
        )

    @pytest.mark.anyio
    async def test_unknown_status_never_becomes_valid(
        self, registry: respx.MockRouter, http_client: httpx.AsyncClient, clock: ContractClock
    ) -> None:
        sign, key = self._signer()
        self.route(registry).mock(return_value=self.reply([sign(self.status_record(1, None))]))
        adapter = self.make_adapter(http_client, clock)

        try:
            found = await self.lookup(adapter)
        except Exception as exc:  # refusing the record outright is safe too
            from adapters.errors import RegistryError

            assert isinstance(exc, RegistryError), broken(
                "error-types", f"an unknown status raised {type(exc).__name__}"
            )
            return
        for evidence in found:
            assert evidence.status != "valid", broken(
                "status-mapped", "a status the registry does not define came out 'valid'"
            )
            assert not self._verify(evidence, key).verified, broken(
                "status-mapped", f"a record of unknown status {evidence.status!r} verified"
            )

    @pytest.mark.anyio
    async def test_holder_with_nothing_gives_no_evidence(
        self, registry: respx.MockRouter, http_client: httpx.AsyncClient, clock: ContractClock
    ) -> None:
        self.route(registry).mock(return_value=self.reply([]))

        found = await self.lookup(self.make_adapter(http_client, clock))

        assert found == [], broken("nothing-held", f"'nothing' became {len(found)} records")

    @pytest.mark.anyio
    async def test_query_for_no_types_asks_nobody(
        self, registry: respx.MockRouter, http_client: httpx.AsyncClient, clock: ContractClock
    ) -> None:
        route = self.route(registry).mock(return_value=self.reply([]))

        found = await self.lookup(self.make_adapter(http_client, clock), self.query(()))

        assert found == [] and route.call_count == 0, broken(
            "ask-what-is-asked", f"{route.call_count} requests for a query of no types"
        )

    @pytest.mark.anyio
    async def test_signed_file_url_is_not_fetched_logged_or_mapped(
        self,
        registry: respx.MockRouter,
        http_client: httpx.AsyncClient,
        clock: ContractClock,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        caplog.set_level(logging.DEBUG)
        sign, key = self._signer()
        record = self.sample_record(1)
        tokens = ("Sig-8a1f2c9d0e7b", "Sig-44c0ffee5eed")
        urls = [
            f"https://{self.file_host}/files/licence-0001.pdf?expires=1767225600&signature={t}"
            for t in tokens
        ]
        files = registry.route(host=self.file_host).mock(
            return_value=httpx.Response(200, content=b"%PDF-1.7")
        )
        route = self.route(registry)
        adapter = self.make_adapter(http_client, clock)

        found = []
        for url in urls:
            route.mock(return_value=self.reply_with_file_url(record, url, sign))
            found.append(await self._one(adapter, what="a record with a signed file URL"))

        assert files.call_count == 0, broken("signed-file-urls", "the lookup fetched the file")
        first, second = found
        same = ("id", "type", "holder", "issuer", "status", "valid_from", "valid_until", "fields")
        changed = [n for n in same if getattr(first, n) != getattr(second, n)]
        assert not changed, broken(
            "signed-file-urls", f"a fresh file URL changed the evidence's {', '.join(changed)}"
        )
        assert not any(t in str(v) for t in tokens for v in first.fields.values()), broken(
            "signed-file-urls", "the signed URL was mapped into the evidence's fields"
        )
        for evidence in found:
            result = self._verify(evidence, key)
            assert result.verified, broken(
                "signed-file-urls", f"the record with a file URL failed: {list(result.problems)}"
            )
        ours = [r.getMessage() for r in caplog.records if not r.name.startswith(("httpx", "httpc"))]
        assert not [m for m in ours if any(t in m for t in tokens)], broken(
            "signed-file-urls", "a log line holds the signed URL"
        )
