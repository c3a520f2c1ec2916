"""``python -m matcher.cli``: the same command line as ``matcher``."""

from matcher.cli import main

raise SystemExit(main())
