"""The sandbox registry: both wire formats of the registry protocol (docs/registry-protocol.md)
served from signed sample data, with settable latency and faults. It backs the demo, the
integration tests and the benchmarks.

::

    from matcher.sandbox import SandboxConfig, create_sandbox_app, load_holders
    from matcher.sandbox.serving import ServerThread

    with ServerThread(create_sandbox_app(SandboxConfig())) as server:
        ...  # server.url; holders = load_holders(); holders["zhang_wei"].id

May import: catalog (identifiers), waiver (evidence: signing), errors; no service wiring.
"""

from matcher.sandbox.app import (
    create_sandbox_app,
    run_sandbox,
    sandbox_trust_store,
    write_trust_store,
)
from matcher.sandbox.config import FaultMode, FaultSettings, SandboxConfig
from matcher.sandbox.keys import Keyring, SigningKey
from matcher.sandbox.province import create_province_sandbox_app
from matcher.sandbox.registry import SandboxRegistry
from matcher.sandbox.samples import CERT_TYPES, SampleHolder, load_holders

__all__ = [
    "CERT_TYPES",
    "FaultMode",
    "FaultSettings",
    "Keyring",
    "SampleHolder",
    "SandboxConfig",
    "SandboxRegistry",
    "SigningKey",
    "create_province_sandbox_app",
    "create_sandbox_app",
    "load_holders",
    "run_sandbox",
    "sandbox_trust_store",
    "write_trust_store",
]
