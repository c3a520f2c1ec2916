"""Past applications for the replay audit: sandbox holders (whose records the sandbox registry
holds) and made-up citizens (whom it does not know), for matters whose applicant is a citizen."""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
from pathlib import Path
from typing import Any

from stdnum.cn import ric

from matcher.catalog.matters import load_catalog
from matcher.sandbox import load_holders

MATTERS = ("ent-establish", "indiv-establish")


def citizen_id(rng: random.Random) -> str:
    born = dt.date(1960, 1, 1) + dt.timedelta(days=rng.randint(0, 365 * 40))
    body = f"330902{born:%Y%m%d}{rng.randint(0, 999):03d}"
    return body + ric.calc_check_digit(body + "0")  # it reads the first 17 characters


def generate(count: int, seed: int = 3, known_share: float = 0.5) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    catalog = load_catalog()
    people = [h for h in load_holders().values() if h.id_type == "citizen_id"]
    apps = []
    for i in range(count):
        matter = catalog.get(rng.choice(MATTERS))
        if rng.random() < known_share:
            person = rng.choice(people)
            holder = {"id_type": "citizen_id", "id": person.id, "name": person.name}
        else:
            holder = {"id_type": "citizen_id", "id": citizen_id(rng), "name": "测试"}
        required = [m for m in matter.materials if m.required]
        collected = rng.sample(required, k=rng.randint(max(1, len(required) - 3), len(required)))
        materials = [m.code if rng.random() < 0.7 else m.name for m in collected]
        day = dt.date(2026, 1, 1) + dt.timedelta(days=rng.randint(0, 300))
        apps.append(
            {
                "application_id": f"ZS-{seed}-{i:06d}",
                "matter_code": matter.code,
                "date": day.isoformat(),
                "applicant_id_type": holder["id_type"],
                "applicant_id": holder["id"],
                "applicant_name": holder["name"],
                "parties": [],
                "materials": materials,
            }
        )
    return apps


def write_csv(apps: list[dict[str, Any]], path: Path) -> Path:
    fields = [
        "application_id",
        "matter_code",
        "date",
        "applicant_id_type",
        "applicant_id",
        "applicant_name",
        "parties",
        "materials",
    ]
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        for app in apps:
            writer.writerow({**app, "parties": "", "materials": ";".join(app["materials"])})
    return path


def write_jsonl(apps: list[dict[str, Any]], path: Path) -> Path:
    path.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in apps), "utf-8")
    return path
