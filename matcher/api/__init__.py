"""The HTTP API: app factory, dependencies, thin routers."""

from matcher.api.app import create_app

__all__ = ["create_app"]
