"""The demo's parts: the sample waive-check, the clerk account and the sample applications."""

from __future__ import annotations

import json
import shlex
from typing import Any

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
        "applicant": {"id_type": holder.id_type, "id": holder.id, "name": holder.name},
        "application_id": "DEMO-0001",
    }
    payload = json.dumps(body, ensure_ascii=False)
    return (
        f"curl -s -X POST {base_url}/v1/{endpoint} -H 'Content-Type: application/json' "
        f"-H 'X-Requester: demo' -d {shlex.quote(payload)}"
    )


def upgrade_database(url: str) -> None:
    """The demo's own database (in the state folder) follows the code without asking."""
    from matcher.migrations import upgrade
    from matcher.records import make_engine

    engine = make_engine(url)
    try:
        upgrade(engine)
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

    from matcher.records import Records
    from matcher.users import UserStore

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
    return demo_account(database_url, DEMO_CLERK, "clerk", "DEMO")


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
        return {"id_type": h.id_type, "id": h.id, "name": h.name}

    return [
        (
            "SAMPLE-1",
            "企业设立登记，张伟：材料全部来自证照库，申请表只差移动电话",
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
