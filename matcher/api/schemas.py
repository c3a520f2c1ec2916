"""The API's JSON Schemas (``schemas/``), generated from its request and response models.

    python -m matcher.api.schemas schemas/      regenerate after a model change

May import: the payload models of the domain packages.
"""

from __future__ import annotations

from matcher.applications.service import ApplicationRequest, ApplicationResponse
from matcher.waiver.payloads import SCHEMA_FILES

__all__ = ["payload_schemas"]


def payload_schemas() -> dict[str, dict[str, object]]:
    """File name in ``schemas/`` → the JSON Schema its model generates (mode as on the wire)."""
    models = SCHEMA_FILES | {
        "application-request.schema.json": ApplicationRequest,
        "application-response.schema.json": ApplicationResponse,
    }
    out: dict[str, dict[str, object]] = {}
    for name, model in models.items():
        schema = model.model_json_schema(
            mode="validation" if name.endswith("request.schema.json") else "serialization"
        )
        out[name] = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"https://matcher.example/schemas/{name}",
            **schema,
        }
    return out


if __name__ == "__main__":  # python -m matcher.api.schemas schemas/  — regenerate after a change
    import json
    import sys
    from pathlib import Path

    target = Path(sys.argv[1] if len(sys.argv) > 1 else "schemas")
    for file_name, doc in payload_schemas().items():
        text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
        (target / file_name).write_text(text, encoding="utf-8")
