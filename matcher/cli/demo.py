"""The demo's parts: the sample waive-check, the clerk account and the sample applications."""

from __future__ import annotations

import argparse
import json
import shlex
from typing import TYPE_CHECKING, Any

from matcher.cli.sandbox import _sandbox_config

if TYPE_CHECKING:
    from matcher.store.sealed import Privacy

__all__ = [
    "DEMO_CLERK",
    "DEMO_OFFICER",
    "DEMO_OFFICER_DEPARTMENT",
    "demo_account",
    "demo_applications",
    "demo_clerk",
    "demo_curl",
    "free_port_or_fail",
    "submit_demo_applications",
    "upgrade_database",
]


def demo_curl(base_url: str, endpoint: str = "waive-check") -> str:
    """A curl for the sample application (企业设立登记 for 张伟) to ``/v1/<endpoint>``."""
    from matcher.sandbox import load_holders

    holder = load_holders()["zhang_wei"]
    body = {
        "matter_code": "ent-establish",
        "applicant": {
            "id_type": holder.id_type,
            "id": holder.id,
            "name": holder.name,
            "phone": holder.phone,
        },
        "application_id": "DEMO-0001",
    }
    payload = json.dumps(body, ensure_ascii=False)
    return (
        f"curl -s -X POST {base_url}/v1/{endpoint} -H 'Content-Type: application/json' "
        f"-H 'X-Requester: demo' -d {shlex.quote(payload)}"
    )


def upgrade_database(url: str, privacy: Privacy) -> None:
    """The demo's own database (in the state folder) follows the code without asking."""
    from matcher.store.migrations import upgrade
    from matcher.store.records import make_engine

    engine = make_engine(url)
    try:
        upgrade(engine, privacy)
    finally:
        engine.dispose()


DEMO_CLERK = "demo-clerk"
DEMO_OFFICER = "demo-officer"
# The sample applications file their data problems against the public security bureau (an ID
# card whose address disagrees with the registry) and natural resources (a licence whose
# signature fails): the officer works for the first, as a department's data officer does.
DEMO_OFFICER_DEPARTMENT = "zs-psb"


def demo_account(database_url: str, username: str, role: str, department: str) -> str:
    """A demo account, made on the first run and given a new password on each (printed, never
    stored in clear)."""
    import secrets

    from matcher.access.users import UserStore
    from matcher.store.records import Records

    password = secrets.token_urlsafe(9)
    records = Records(database_url)
    try:
        users = UserStore(records)
        if not users.set_password(username, password):
            users.add_user(username, role, password, department=department)
    finally:
        records.close()
    return password


def demo_clerk(database_url: str) -> str:
    """The demo's clerk account, with a new password each run."""
    # A comprehensive window (综合窗口): the sample applications are several departments' matters.
    return demo_account(database_url, DEMO_CLERK, "window", "DEMO")


def free_port_or_fail(host: str, port: int, flag: str) -> None:
    """Raise ConfigError, in one line naming the port and the flag that changes it, when another
    program already listens there (a socket of our own last run, in TIME_WAIT, does not count)."""
    import socket

    from matcher.errors import ConfigError

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            s.bind((host, port))
        except OSError:
            raise ConfigError(
                f"port {port} on {host} is already in use by another program; "
                f"choose another with {flag} PORT"
            ) from None


def demo_applications() -> list[tuple[str, str, dict[str, Any]]]:
    """The demo's sample applications: (application_id, what it shows, request body)."""
    from matcher.sandbox import load_holders

    holders = load_holders()

    def person(key: str) -> dict[str, str]:
        h = holders[key]
        out = {"id_type": h.id_type, "id": h.id, "name": h.name}
        if h.phone:  # the real-name account's number, as the portal sends it
            out["phone"] = h.phone
        return out

    return [
        (
            "SAMPLE-1",
            "企业设立登记，张伟：身份证明、住所证明来自证照库，申请表全部由数据填写；章程、任职文件需自备",
            {"matter_code": "ent-establish", "applicant": person("zhang_wei")},
        ),
        (
            "SAMPLE-2",
            "同上，另上传了一张旧住址的身份证：户籍地址来源不一致，需要选择",
            {"matter_code": "ent-establish", "applicant": person("zhang_wei")},
        ),
        (
            "SAMPLE-3",
            "个体工商户登记，徐丽",
            {"matter_code": "indiv-establish", "applicant": person("xu_li")},
        ),
        (
            "SAMPLE-4",
            "不动产登记，杨帆：证照签名验证失败，只作为未采用的来源显示",
            {"matter_code": "re-change-name", "applicant": person("yang_fan")},
        ),
        (
            "SAMPLE-5",
            "不动产变更登记，张伟：零材料、零字段——材料都有已核验的证照，申请表全部由数据填写",
            {"matter_code": "re-change-name", "applicant": person("zhang_wei")},
        ),
        (
            "SAMPLE-6",
            "社会保险参保缴费证明开具，张伟：符合智能秒办条件，业务系统可直接办结",
            {"matter_code": "social-insurance-proof", "applicant": person("zhang_wei")},
        ),
    ]


def submit_demo_applications(base_url: str) -> list[tuple[str, str, str]]:
    """Send the sample applications as a business system would; (id, what, page URL) each.

    A sample kept by an earlier run on the same state folder is reused as it is: sending it
    again would be another request under the same number (a new upload id), which is refused."""
    import httpx

    from matcher.sandbox.scans import id_card_pdf

    out = []
    with httpx.Client(base_url=base_url, headers={"X-Requester": "demo"}, timeout=120) as client:
        for app_id, what, body in demo_applications():
            kept = client.get(f"/v1/applications/{app_id}")
            if kept.status_code == 200:
                out.append((app_id, what, f"{base_url}/ui/applications/{kept.json()['id']}"))
                continue
            if kept.status_code != 404:
                kept.raise_for_status()
            body = {**body, "application_id": app_id}
            if app_id == "SAMPLE-2":
                # the applicant's own card, printed before a move: its address is an old one
                scan = id_card_pdf(
                    body["applicant"]["id"], 住址="浙江省舟山市定海区环城南路9号1幢201室"
                )
                r = client.post(
                    "/v1/files", files={"file": ("身份证.pdf", scan, "application/pdf")}
                )
                r.raise_for_status()
                body["uploads"] = [
                    {"material_code": "legal-rep-id", "file_id": r.json()["file_id"]}
                ]
            r = client.post("/v1/applications", json=body)
            r.raise_for_status()
            out.append((app_id, what, f"{base_url}/ui/applications/{r.json()['id']}"))
    return out


def _demo(args: argparse.Namespace) -> int:
    import threading

    from matcher.api import create_app
    from matcher.cli.demo import (
        DEMO_CLERK,
        DEMO_OFFICER,
        DEMO_OFFICER_DEPARTMENT,
        demo_account,
        demo_clerk,
        demo_curl,
        free_port_or_fail,
        submit_demo_applications,
        upgrade_database,
    )
    from matcher.sandbox import create_province_sandbox_app, create_sandbox_app, write_trust_store
    from matcher.sandbox.serving import ServerThread
    from matcher.settings import RegistryConfig, Settings, default_state_dir

    for port, flag in (
        (args.port, "--port"),
        (args.sandbox_port, "--sandbox-port"),
        (args.province_port, "--province-port"),
    ):
        free_port_or_fail(args.host if flag == "--port" else "127.0.0.1", port, flag)
    state = default_state_dir()
    state.mkdir(parents=True, exist_ok=True)
    config = _sandbox_config(args)
    trust = state / "sandbox-trust.json"
    write_trust_store(config, trust)
    with (
        ServerThread(create_sandbox_app(config), port=args.sandbox_port) as sandbox,
        ServerThread(create_province_sandbox_app(config), port=args.province_port) as province,
    ):
        province_app = {
            "app_id": config.province_app_id,
            "app_secret": config.province_app_secret.get_secret_value(),
        }
        settings = Settings(
            trust_store=trust,
            state_dir=state,
            registries=[
                RegistryConfig(name="sandbox-elicence", adapter="elicence", base_url=sandbox.url),
                RegistryConfig(name="sandbox-datacert", adapter="datacert", base_url=sandbox.url),
                RegistryConfig(
                    name="sandbox-province",
                    adapter="province",
                    base_url=province.url,
                    **province_app,
                ),
            ],
        )
        upgrade_database(settings.resolved_database_url(), settings.privacy())
        password = demo_clerk(settings.resolved_database_url())
        officer_password = demo_account(
            settings.resolved_database_url(), DEMO_OFFICER, "data_officer", DEMO_OFFICER_DEPARTMENT
        )
        app = create_app(settings)
        with ServerThread(app, host=args.host, port=args.port, startup_timeout_s=60):
            base = f"http://{args.host}:{args.port}"
            samples = submit_demo_applications(base)
            print(f"sandbox registries: {sandbox.url} (city), {province.url} (provincial)")
            print(f"database: {settings.resolved_database_url()}")
            print(f"API docs: {base}/docs\nTry a waive-check (企业设立登记, 申请人 张伟):\n")
            print(demo_curl(base) + "\n")
            print("Or send it as an application: the same check plus its pre-filled form, kept")
            print(f"under its number (then GET {base}/v1/applications/DEMO-0001/form.pdf):\n")
            print(demo_curl(base, "applications") + "\n")
            print(f"Clerk's workbench: {base}/ui/   user: {DEMO_CLERK}   password: {password}")
            print(
                f"Data problems and the assessment (考核): {base}/ui/data-problems   "
                f"user: {DEMO_OFFICER}   password: {officer_password}   "
                f"(data officer of {DEMO_OFFICER_DEPARTMENT}, 舟山市公安局)"
            )
            print("Sample applications:")
            for app_id, what, url in samples:
                print(f"  {app_id}  {what}\n          {url}")
            print("\nCtrl+C stops the demo.", flush=True)
            threading.Event().wait()
    return 0
