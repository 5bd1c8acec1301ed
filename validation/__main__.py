"""``python -m validation``: the ``transfer-theory`` command line."""

from validation.cli import main

raise SystemExit(main())
