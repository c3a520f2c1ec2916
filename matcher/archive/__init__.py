"""The paperless archive (存档零纸件): one signed BagIt package per application, and its
offline verification.

``package`` builds the package from what the service recorded; ``verify`` checks one with
nothing but the file (and, optionally, the service's published keys): no database, no network.

May import: settings, the domain packages, store, errors.
"""
