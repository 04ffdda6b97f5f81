"""`python -m bench.escalation`."""

from bench.escalation.cli import main

raise SystemExit(main())
