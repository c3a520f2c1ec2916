"""The JSON Schemas in schemas/ are the ones the API enforces and its OpenAPI document shows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from matcher.api import create_app
from matcher.api.schemas import payload_schemas
from matcher.settings import Settings

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


@pytest.mark.parametrize("name", sorted(payload_schemas()))
def test_schema_file_is_current(name: str) -> None:
    on_disk = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    assert on_disk == payload_schemas()[name], "run: python -m matcher.api.schemas schemas"


def _normalise(schema: Any) -> Any:
    """Point $refs to one place and drop titles and null defaults (FastAPI omits them)."""
    if isinstance(schema, dict):
        out = {}
        for k, v in schema.items():
            if k in ("title", "$schema", "$id", "$defs") or (k == "default" and v is None):
                continue
            if k == "$ref":
                v = v.rsplit("/", 1)[-1]
            out[k] = _normalise(v)
        return out
    if isinstance(schema, list):
        return [_normalise(v) for v in schema]
    return schema


@pytest.mark.parametrize(
    ("name", "component"),
    [
        ("waive-check-request.schema.json", "WaiveCheckRequest"),
        ("waive-check-response.schema.json", "WaiveCheckResponse"),
        ("application-request.schema.json", "ApplicationRequest"),
        ("application-response.schema.json", "ApplicationResponse"),
        ("usage-response.schema.json", "UsageList"),
    ],
)
def test_openapi_shows_the_same_contract(tmp_path: Path, name: str, component: str) -> None:
    openapi = create_app(Settings(state_dir=tmp_path)).openapi()
    components = openapi["components"]["schemas"]
    file_schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    assert _normalise(components[component]) == _normalise(file_schema)
    for def_name, definition in file_schema.get("$defs", {}).items():
        assert _normalise(components[def_name]) == _normalise(definition), def_name


def test_openapi_documents_the_endpoints(tmp_path: Path) -> None:
    paths = create_app(Settings(state_dir=tmp_path)).openapi()["paths"]
    assert {"/v1/waive-check", "/v1/matters", "/v1/matters/{code}", "/healthz", "/readyz"} <= set(
        paths
    )
    assert {"400", "404", "409", "422"} <= set(paths["/v1/waive-check"]["post"]["responses"])
    assert {"/v1/applications", "/v1/applications/{application_id}"} <= set(paths)
    assert {"400", "404", "409", "422"} <= set(paths["/v1/applications"]["post"]["responses"])
    assert "application/pdf" in str(paths["/v1/applications/{application_id}/form.pdf"])
