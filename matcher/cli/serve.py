"""``matcher serve``: the API under uvicorn, one process or several."""

from __future__ import annotations

import argparse
import logging
import os
import shlex
from pathlib import Path

from matcher.errors import ConfigError, SchemaOutdated

CONFIG_ENV = "MATCHER_CONFIG_FILE"


LOG_FORMAT_ENV = "MATCHER_LOG_FORMAT"


def app_from_env():  # type: ignore[no-untyped-def]  # uvicorn factory for --workers > 1
    from matcher.api import create_app
    from matcher.observe import configure_logging
    from matcher.settings import load_settings

    # A worker process starts afresh: it sets up its own logging like the parent's.
    configure_logging(logging.INFO, os.environ.get(LOG_FORMAT_ENV, "json"))
    return create_app(load_settings(os.environ.get(CONFIG_ENV) or None))


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from matcher.api import create_app
    from matcher.settings import load_settings
    from matcher.wiring import build_services

    settings = load_settings(args.config)
    if settings.trust_store is None:
        # The state folder's trust store is the sandbox's, whose keys come from a public seed:
        # anyone could sign a licence it trusts. Only the demo and the sandbox use it.
        raise ConfigError(
            "matcher serve needs trust_store set (the issuers' public keys, in the config file "
            "or MATCHER_TRUST_STORE): without it the sandbox's demo keys would be trusted"
        )
    try:
        build_services(settings).records.close()  # fail fast on a bad catalog, trust store or DB
    except SchemaOutdated as exc:
        if args.config and str(exc).endswith("matcher db upgrade"):
            raise SchemaOutdated(f"{exc} --config {shlex.quote(str(args.config))}") from None
        raise
    for caller in settings.callers:  # and on a caller key that is not set
        caller.api_key()
    if settings.data_key_beside_database():  # the demo keeps it there; a service should not
        logging.getLogger("matcher").warning(
            "the data key or the index key is kept in the state folder beside the database "
            "(%s): one backup holds the sealed data and its keys; set data_keys_env and "
            "index_keys_env",
            settings.state_dir,
        )
    # log_config=None: uvicorn's loggers go through the handler main() set up (JSON or text,
    # ID numbers masked), not uvicorn's own.
    if args.workers > 1:
        if args.config:
            os.environ[CONFIG_ENV] = str(Path(args.config).resolve())
        os.environ[LOG_FORMAT_ENV] = args.log_format
        _metrics_across_workers(settings.state_dir / "metrics")
        uvicorn.run(
            "matcher.cli:app_from_env",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level="info",
            log_config=None,
            http="h11",  # every answer carries its X-Request-Id (pyproject: not httptools)
        )
    else:
        uvicorn.run(
            create_app(settings),
            host=args.host,
            port=args.port,
            log_level="info",
            log_config=None,
            http="h11",  # every answer carries its X-Request-Id (pyproject: not httptools)
        )
    return 0


def _metrics_across_workers(folder: Path) -> None:
    """Prometheus multiprocess mode: each worker writes its figures to ``folder`` (emptied of a
    previous run's first) and /metrics from any worker sums them."""
    import shutil

    from matcher.observe import MULTIPROC_ENV

    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    os.environ[MULTIPROC_ENV] = str(folder)
