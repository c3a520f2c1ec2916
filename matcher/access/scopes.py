"""What an API key may be allowed to do (no database here: the settings read it at start)."""

from __future__ import annotations

from collections.abc import Iterable

from matcher.errors import InputError

__all__ = ["ALL_SCOPES", "check_scopes"]

# What a key may be allowed to do; "admin" implies every other scope.
ALL_SCOPES = (
    "waive-check",
    "applications",
    "extract",
    "usage",
    # the holder's view for the citizen portal: every caller's uses of a holder's records
    "holder-usage",
    "audits",
    "data-problems",
    "admin",
)


def check_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(s.strip() for s in scopes if s.strip()))
    unknown = [s for s in chosen if s not in ALL_SCOPES]
    if unknown or not chosen:
        raise InputError(
            f"unknown scope(s) {', '.join(unknown) or '(none given)'}; "
            f"known: {', '.join(ALL_SCOPES)}",
            field="scopes",
        )
    return chosen
