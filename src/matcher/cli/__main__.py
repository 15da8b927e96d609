"""`python -m matcher.cli ...`: the same as the `matcher` script."""

from . import main

if __name__ == "__main__":
    raise SystemExit(main())
