"""python -m aimem._gen [--check]: see :mod:`aimem._gen`."""

import sys

from aimem._gen import main

raise SystemExit(main(sys.argv[1:]))
