"""The HTTP API: app factory, dependencies, thin routers.

May import: everything below it — jobs, wiring, settings, the domain, catalog, access, store.
"""

from matcher.api.app import create_app

__all__ = ["create_app"]
