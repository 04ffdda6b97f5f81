"""`python -m bench.broadcast`."""

from bench.broadcast.cli import main

raise SystemExit(main())
