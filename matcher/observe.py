"""What the service tells its operators: Prometheus metrics and JSON log lines.

Metrics use the official client library. With several worker processes (``matcher serve
--workers N``) the library's multiprocess mode is on (``PROMETHEUS_MULTIPROC_DIR``, set by the
command line before the workers start), so ``/metrics`` from any worker shows the sum of all.

Nothing personal is ever a label or a log field: labels are route templates, registry names,
decision bases and outcome words; log messages pass through :class:`MaskIdentifiers`, which masks
every ID number and credit code found in them.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import functools
import json
import logging
import os
import re
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as prom_multiprocess

__all__ = [
    "CONTENT_TYPE_LATEST",
    "REQUEST_ID",
    "JsonFormatter",
    "MaskIdentifiers",
    "configure_logging",
    "labelled",
    "mask_identifiers",
    "metrics_text",
]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# Latency buckets from 5 ms to 10 s: a warm check takes a few ms, a registry budget is seconds.
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_LATENCY = Histogram(
    "matcher_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template, method and status code.",
    ("route", "method", "status"),
    buckets=_BUCKETS,
)
REGISTRY_LATENCY = Histogram(
    "matcher_registry_request_duration_seconds",
    "Time a registry lookup took, retries included, by registry and outcome.",
    ("registry", "outcome"),
    buckets=_BUCKETS,
)
REGISTRY_ERRORS = Counter(
    "matcher_registry_errors_total",
    "Registry lookups that gave no usable answer, by registry and error code.",
    ("registry", "code"),
)
CACHE_LOOKUPS = Counter(
    "matcher_cache_lookups_total",
    "Registry-answer cache lookups: hit, miss, or error (a Redis fault, served as a miss).",
    ("result",),
)
DECISIONS = Counter(
    "matcher_decisions_total",
    "Per-material decisions sent, by decision and basis.",
    ("decision", "basis"),
)
BREAKER_OPEN = Gauge(
    "matcher_registry_breaker_open",
    "1 while a registry's circuit breaker refuses calls (as last seen by a lookup), else 0.",
    ("registry",),
    multiprocess_mode="max",
)
RECHECK_QUEUE = Gauge(
    "matcher_recheck_queue_depth",
    "Materials decided registry_unavailable that wait to be checked again.",
    multiprocess_mode="max",
)


@functools.lru_cache(maxsize=1024)
def labelled(metric: Any, *values: str) -> Any:
    """``metric.labels(*values)``, looked up once per set of values: the client checks and
    converts the values on every call, seven times in each waive-check. Values are words from
    small sets (bases, outcomes, route templates); the bound holds against a caller inventing
    HTTP methods."""
    return metric.labels(*values)


def metrics_text() -> tuple[bytes, str]:
    """The exposition text of this process, or of all workers in multiprocess mode."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        prom_multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST


# -- logs ---------------------------------------------------------------------------------------

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

# An 18-character citizen ID (GB 11643, also residence permits) or credit code (GB 32100), not
# inside a longer run of letters and digits: keep the first six and the last four characters.
_IDENTIFIER = re.compile(
    r"(?<![0-9A-Za-z])([0-9A-Z]{6})([0-9A-Z]{8})([0-9A-Z]{3}[0-9A-Za-z])(?![0-9A-Za-z])"
)


def mask_identifiers(text: str) -> str:
    """``330902198103150314`` → ``330902********0314``; everything else unchanged."""
    return _IDENTIFIER.sub(lambda m: f"{m[1]}********{m[3]}", text)


class MaskIdentifiers(logging.Filter):
    """Masks ID numbers in every record's message before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_identifiers(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = REQUEST_ID.get()
        if request_id:
            entry["request_id"] = request_id
        if record.exc_info:
            entry["exception"] = mask_identifiers(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


class _RequestIdText(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = REQUEST_ID.get()
        return f"{line} [request {request_id}]" if request_id else line


def configure_logging(level: int, fmt: str) -> None:
    """The process's log handler: ``json`` (one object per line) or ``text``; IDs masked."""
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(_RequestIdText("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MaskIdentifiers())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("httpx").setLevel(logging.WARNING)
