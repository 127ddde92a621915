"""`python -m quotadesk`: the window by default, the command line with a command."""

import multiprocessing

if __name__ == "__main__":
    # In the frozen app, a usage import's writer process starts as this executable again:
    # it is recognised here, before anything else is loaded.
    multiprocessing.freeze_support()

    from quotadesk.cli import main

    raise SystemExit(main())
