"""Per-department webhooks: a signed JSON POST on every new or changed report.

Delivery is never on a waive-check's path: :meth:`Notifier.notify` only schedules a task.
A delivery is retried with exponential backoff (and jitter) until a 2xx or its attempts run out.
The receiver checks ``X-Matcher-Signature: sha256=<hex>``, an HMAC-SHA256 with the department's
secret over ``<X-Matcher-Timestamp>.<body>``, and may refuse old timestamps.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import random
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

__all__ = ["Hook", "Notifier", "sign"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Hook:
    department: str
    url: str
    secret: bytes


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The ``X-Matcher-Signature`` value for a body sent at ``timestamp``."""
    mac = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def _default(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


class Notifier:
    def __init__(
        self,
        hooks: Mapping[str, Hook],
        *,
        attempts: int = 6,
        first_delay_s: float = 0.5,
        timeout_s: float = 5.0,
    ) -> None:
        self.hooks = dict(hooks)
        self.attempts = attempts
        self.first_delay_s = first_delay_s
        self._client: httpx.AsyncClient | None = None
        self._timeout = timeout_s
        self._tasks: set[asyncio.Task[bool]] = set()

    def notify(self, event: str, report: Mapping[str, Any]) -> None:
        """Schedule the delivery of ``report`` to its department's hook, if it has one."""
        hook = self.hooks.get(str(report.get("department")))
        if hook is None:
            return
        body = json.dumps(
            {"event": event, "report": report}, ensure_ascii=False, default=_default
        ).encode()
        task = asyncio.get_running_loop().create_task(self._deliver(hook, event, body))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, hook: Hook, event: str, body: bytes) -> bool:
        if self._client is None:
            # Its own client: a department's server is not a registry, and shares no pool.
            self._client = httpx.AsyncClient(timeout=self._timeout, follow_redirects=False)
        delivery = str(uuid.uuid4())
        for attempt in range(self.attempts):
            timestamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/json",
                "X-Matcher-Event": event,
                "X-Matcher-Delivery": delivery,
                "X-Matcher-Timestamp": timestamp,
                "X-Matcher-Signature": sign(hook.secret, timestamp, body),
            }
            try:
                response = await self._client.post(hook.url, content=body, headers=headers)
                if 200 <= response.status_code < 300:
                    return True
                why = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                why = type(exc).__name__
            if attempt + 1 < self.attempts:
                delay = self.first_delay_s * 2**attempt * (1 + random.random() / 4)
                log.warning(
                    "webhook %s for %s failed (%s); retry in %.1fs",
                    delivery,
                    hook.department,
                    why,
                    delay,
                )
                await asyncio.sleep(delay)
        log.error(
            "webhook %s for %s given up after %d attempts", delivery, hook.department, self.attempts
        )
        return False

    async def drain(self) -> None:
        """Wait for the deliveries under way (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
