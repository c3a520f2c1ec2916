"""The provincial sharing interface's sandbox: its wire format (docs/province.md) on sample data.

``POST /api/v1/certificate/query`` checks the envelope as the province does — the app id, the
timestamp window and the HMAC-SHA256 signature over the sorted members — and answers
``{"code", "msg", "data"}`` with HTTP 200, errors included. Records come from ``province.yaml``
and are signed once at start with their issuer's key (the same seed as the reference sandbox, so
one trust store serves both). Latency and faults are the reference sandbox's
(:class:`matcher.sandbox.gate.RegistryGate`), with a wrong-shape body of this format.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import yaml
from fastapi import FastAPI, Request
from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError
from starlette.responses import JSONResponse, Response

from matcher.catalog.ids import normalise_holder_id
from matcher.errors import ConfigError
from matcher.sandbox.config import SandboxConfig
from matcher.sandbox.control import add_control_routes
from matcher.sandbox.gate import RegistryGate, SandboxState
from matcher.sandbox.keys import Keyring
from matcher.sandbox.samples import load_samples

__all__ = [
    "MALFORMED_BODY",
    "PROVINCE_PATH",
    "ProvinceRegistry",
    "create_province_sandbox_app",
    "load_province_certs",
]

PROVINCE_PATH = "/api/v1/certificate/query"
MALFORMED_BODY = '{"code":"0","msg":"成功","data":"not-a-list","cert":7}'.encode()
TIMESTAMP_WINDOW_S = 300
FILE_LINK_S = 300
_HOLDER_TYPES = {"111": "citizen_id", "001": "uscc"}
_HOLDER_ID_RE = re.compile(r"^[0-9A-Z]{18}$")
_REQUIRED = (
    "appId",
    "timestamp",
    "nonce",
    "holderCode",
    "holderTypeCode",
    "certTypeCode",
    "useCause",
    "sign",
)

Text = Annotated[str, StringConstraints(strict=True, min_length=1)]
CompactDate = Annotated[str, StringConstraints(strict=True, pattern=r"^\d{8}$")]


class _SurfaceItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text
    value: Text


class _CertSample(BaseModel):
    """A record's checked members; others are served as written."""

    model_config = ConfigDict(extra="allow")

    certId: Text  # the wire's camelCase names
    certTypeCode: Text
    holderCode: Text
    holderTypeCode: Text
    issueOrgName: Text
    issueOrgCode: Text
    issueDate: CompactDate
    validBegin: CompactDate
    validEnd: CompactDate
    certStatus: Text
    surface: list[_SurfaceItem]


class _Directive(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tamper: bool = False
    key: str = "issuer"


@dataclass(frozen=True)
class ProvinceCert:
    record: dict[str, Any]
    tamper: bool
    unknown_key: bool


def load_province_certs(data_dir: Path | None = None) -> list[ProvinceCert]:
    """The records of ``province.yaml``, checked; a custom data folder without one has none."""
    if data_dir is None:
        source: Any = resources.files("matcher.sandbox").joinpath("data", "province.yaml")
        where = "matcher/sandbox/data/province.yaml"
    else:
        source = data_dir / "province.yaml"
        where = str(source)
        if not source.is_file():
            return []
    try:
        doc = yaml.safe_load(source.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: not valid YAML ({exc})") from None
    items = doc.get("certs") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise ConfigError(f'{where}: expected a mapping with a "certs" list')
    certs: list[ProvinceCert] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ConfigError(f"{where}: certs[{i}]: expected a mapping")
        record = {k: v for k, v in item.items() if k != "_sandbox"}
        try:
            _CertSample.model_validate(record)
            directive = _Directive.model_validate(item.get("_sandbox") or {})
        except ValidationError as exc:
            first = exc.errors()[0]
            path = ".".join(str(p) for p in first["loc"])
            raise ConfigError(f"{where}: certs[{i}].{path}: {first['msg']}") from None
        certs.append(ProvinceCert(record, directive.tamper, directive.key == "unknown"))
    return certs


def province_keyring(config: SandboxConfig) -> Keyring:
    """The issuer keys of the province's records (kept apart from the reference sandbox's, so
    that adding one never changes another issuer's key)."""
    codes = {c.record["issueOrgCode"] for c in load_province_certs(config.data_dir)}
    return Keyring(config.seed, codes)


def _hmac_hex(secret: str, text: str) -> str:
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def _signing_text(params: dict[str, str]) -> str:
    return "&".join(f"{k}={params[k]}" for k in sorted(params) if k != "sign" and params[k])


class ProvinceRegistry:
    """The province's records, signed, by holder."""

    def __init__(self, certs: list[ProvinceCert], keyring: Keyring) -> None:
        self.keyring = keyring
        self._by_holder: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._by_id: dict[str, dict[str, Any]] = {}
        for cert in certs:
            code = cert.record["issueOrgCode"]
            key = keyring.unknown_key(code) if cert.unknown_key else keyring.issuer_key(code)
            signed = key.sign(copy.deepcopy(cert.record))
            if cert.tamper:  # a forger's edit of the face, after the issuer signed it
                signed["surface"][0]["value"] += "某"
            id_type = _HOLDER_TYPES[cert.record["holderTypeCode"]]
            holder = (id_type, normalise_holder_id(id_type, cert.record["holderCode"]))
            self._by_holder.setdefault(holder, []).append(signed)
            self._by_id[cert.record["certId"]] = signed

    @classmethod
    def from_config(cls, config: SandboxConfig) -> ProvinceRegistry:
        return cls(load_province_certs(config.data_dir), province_keyring(config))

    def certs_for(self, id_type: str, holder_id: str, types: set[str]) -> list[dict[str, Any]]:
        found = self._by_holder.get((id_type, holder_id), [])
        return [c for c in found if c["certTypeCode"] in types]

    def cert(self, cert_id: str) -> dict[str, Any] | None:
        return self._by_id.get(cert_id)


def _answer(code: str, msg: str, data: list[dict[str, Any]] | None = None) -> Response:
    body = {"code": code, "msg": msg, "data": data}
    return Response(json.dumps(body, ensure_ascii=False), media_type="application/json")


def _add_query_route(app: FastAPI, registry: ProvinceRegistry, config: SandboxConfig) -> None:
    secret = config.province_app_secret.get_secret_value()

    @app.post(PROVINCE_PATH, tags=["provincial sharing interface"])
    async def query(request: Request) -> Response:
        """A holder's certs of the asked types; every answer is HTTP 200 with a ``code``."""
        try:
            params = json.loads(await request.body())
        except ValueError:
            return _answer("2001", "请求体不是JSON")
        if not isinstance(params, dict) or not all(isinstance(v, str) for v in params.values()):
            return _answer("2001", "参数格式错误")
        missing = [k for k in _REQUIRED if not params.get(k)]
        if missing:
            return _answer("2001", f"缺少参数：{','.join(missing)}")
        if params["appId"] != config.province_app_id:
            return _answer("1002", "应用未授权")
        if not params["timestamp"].isdigit() or (
            abs(int(params["timestamp"]) / 1000 - time.time()) > TIMESTAMP_WINDOW_S
        ):
            return _answer("1003", "时间戳超出有效期")
        if not hmac.compare_digest(params["sign"], _hmac_hex(secret, _signing_text(params))):
            return _answer("1001", "签名错误")
        id_type = _HOLDER_TYPES.get(params["holderTypeCode"])
        if id_type is None:
            return _answer("2001", "持证主体代码类型错误")
        holder_id = normalise_holder_id(id_type, params["holderCode"])
        if not _HOLDER_ID_RE.fullmatch(holder_id):
            return _answer("2001", "持证主体代码格式错误")
        types = {t for t in params["certTypeCode"].split(",") if t}
        expires = int(time.time()) + FILE_LINK_S
        data = []
        for cert in registry.certs_for(id_type, holder_id, types):
            cert_id = cert["certId"]
            link_sign = _hmac_hex(secret, f"{cert_id}|{expires}")[:32]
            url = request.url_for("cert_file", cert_id=cert_id).include_query_params(
                expires=expires, sign=link_sign
            )
            data.append({"cert": cert, "fileUrl": str(url)})
        return _answer("0", "成功", data)

    @app.get("/files/{cert_id}", name="cert_file", tags=["provincial sharing interface"])
    async def cert_file(cert_id: str, expires: int = 0, sign: str = "") -> Response:
        """The licence file behind a signed link (a stand-in document), until it expires."""
        wanted = _hmac_hex(secret, f"{cert_id}|{expires}")[:32]
        if expires < time.time() or not hmac.compare_digest(sign, wanted):
            return JSONResponse({"code": "1001", "msg": "链接无效或已过期"}, status_code=403)
        if registry.cert(cert_id) is None:
            return JSONResponse({"code": "4004", "msg": "文件不存在"}, status_code=404)
        return Response(f"OFD stand-in for {cert_id}".encode(), media_type="application/ofd")


def sandbox_trust_store(config: SandboxConfig) -> dict[str, Any]:
    """The trust store (registry protocol §5) of every sandbox issuer: the reference sandbox's
    and the provincial sandbox's, for ``config``'s seed."""
    samples = load_samples(config.data_dir)
    keys = Keyring(config.seed, samples.issuer_codes()).trust_store()["keys"]
    known = {entry["key_id"] for entry in keys}
    keys += [e for e in province_keyring(config).trust_store()["keys"] if e["key_id"] not in known]
    return {"keys": keys}


def create_province_sandbox_app(config: SandboxConfig | None = None) -> FastAPI:
    """The provincial sharing interface on the sample records, with the sandbox's faults."""
    config = config or SandboxConfig()
    registry = ProvinceRegistry.from_config(config)
    state = SandboxState(config=config, faults=config.fault_settings())
    state.rng.seed(config.seed)
    app = FastAPI(
        title="Matcher provincial sandbox",
        description="A provincial e-licence sharing interface (national-platform style).",
        version="1",
    )
    _add_query_route(app, registry, config)
    trust = json.dumps(sandbox_trust_store(config), ensure_ascii=False).encode()
    add_control_routes(app, state, trust)
    app.add_middleware(
        RegistryGate,
        state=state,
        prefix="/api/",
        malformed_body=MALFORMED_BODY,
        name_of=lambda method, path: f"{method} {path}",
        check_key=False,
    )
    app.state.sandbox = state
    return app
