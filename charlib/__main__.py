"""``python -m charlib`` is the ``charlib`` command."""

from charlib.cli import main

raise SystemExit(main())
