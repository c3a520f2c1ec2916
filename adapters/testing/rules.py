"""The rules of the adapter contract, by name. A failing contract test names the rule it broke."""

from __future__ import annotations

__all__ = ["RULES", "broken"]

RULES: dict[str, str] = {
    "raw-intact": "raw is the wire record exactly as received, signature and unknown members kept",
    "mapping": "the record maps onto the evidence model: kind, registry, id, type, holder, issuer "
    "name and code, dates as dates, status as a word, fields as label → value",
    "unknown-members": "members the adapter does not know are accepted anywhere in an answer and "
    "kept in raw",
    "status-mapped": "the registry's status words or codes map onto valid, expired, revoked or "
    "suspended; a status the adapter does not know never becomes valid",
    "error-in-body": "an answer whose body carries an error code is a failure, whatever its HTTP "
    "status",
    "failure-not-answer": "a failure never becomes evidence or an empty answer: the lookup raises "
    "RegistryUnavailable or RegistryRejected",
    "error-types": "an adapter raises only adapters.errors, with the code its table gives",
    "nothing-held": "the registry's 'holder has nothing' answer is [], and only that answer is",
    "ask-what-is-asked": "a query with no types asks nobody",
    "budget": "options.timeout_s bounds the whole lookup: every attempt, wait and page",
    "retries": "5xx, 429, network errors and timeouts are retried at most max_retries times, "
    "honouring Retry-After",
    "refusals": "401, 403 and 400 raise RegistryRejected at once, without retrying",
    "circuit-breaker": "breaker_failures failures in a row open the circuit; it refuses without "
    "calling until one trial after breaker_reset_s",
    "malformed": "a body that is not what the registry promises is RegistryUnavailable "
    "(malformed_response)",
    "body-limit": "no more than max_body_bytes of a body is read",
    "signed-file-urls": "a signed file URL is a credential: the lookup does not fetch it or log "
    "it, and it does not change the evidence",
    "who-asks": "requests carry the key, requester and purpose, and the application and consent "
    "when given",
    "no-ids-in-messages": "no holder ID appears in an error message or a log line",
    "pagination": "every page is followed, up to max_pages",
}


def broken(rule: str, detail: str) -> str:
    """The failure message of a contract test: the rule's name and statement, then what happened."""
    return f"adapter contract rule [{rule}] broken: {RULES[rule]}. Here: {detail}"
