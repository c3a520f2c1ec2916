"""The clerk's workbench under ``/ui/``: pages rendered on the server, plain forms, no build step.

Routers stay thin: they read the session, call the services and render a template. Templates can
be replaced one by one from the folder that the ``ui_templates`` setting names.

May import: api (dependencies), wiring, settings, the domain packages, access, store, errors.
"""

from matcher.ui.app import install_ui

__all__ = ["install_ui"]
