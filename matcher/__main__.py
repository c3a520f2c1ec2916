"""``python -m matcher`` is the ``matcher`` command (for environments without its script)."""

from matcher.cli import main

raise SystemExit(main())
