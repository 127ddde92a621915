"""`python -m quotadesk`: the window by default, the command line with a command."""

from quotadesk.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
