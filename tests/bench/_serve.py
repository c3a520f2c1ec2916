"""Serve the matcher API or a bare FastAPI endpoint with identical uvicorn settings."""

from __future__ import annotations

import os
import sys

import uvicorn
from fastapi import FastAPI

from matcher.api import create_app
from matcher.settings import load_settings
from matcher.waiver.payloads import WaiveCheckRequest, WaiveCheckResponse


def bare_app(canned: WaiveCheckResponse) -> FastAPI:
    """The baseline: parse the same request model, answer a response of the same shape."""
    app = FastAPI()

    @app.post("/v1/waive-check", response_model=WaiveCheckResponse)
    async def waive_check(body: WaiveCheckRequest) -> WaiveCheckResponse:
        return canned.model_copy(update={"matter_code": body.matter_code})

    return app


def main() -> None:
    kind, port = sys.argv[1], int(sys.argv[2])
    if kind == "matcher-workers":  # matcher-workers PORT CONFIG N: N worker processes
        os.environ["MATCHER_CONFIG_FILE"] = sys.argv[3]
        uvicorn.run(
            "matcher.cli:app_from_env",
            factory=True,
            host="127.0.0.1",
            port=port,
            workers=int(sys.argv[4]),
            log_level="warning",
            access_log=False,
            http="h11",
        )
        return
    if kind == "matcher":
        app = create_app(load_settings(sys.argv[3]))
    else:
        with open(sys.argv[3], encoding="utf-8") as f:
            app = bare_app(WaiveCheckResponse.model_validate_json(f.read()))
    # as `matcher serve` runs: uvicorn's auto loop (uvloop where installed) and h11, both sides
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, http="h11")


if __name__ == "__main__":
    main()
