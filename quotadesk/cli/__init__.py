"""The command line (SPEC §7): every service is a command, for scripts and scheduled jobs.

Exit status: 0 done; 1 refused (one line on stderr naming the field or rule, nothing written);
2 the command line itself is wrong."""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from quotadesk.cli.commands import client_json, restore_json, restore_lines
from quotadesk.cli.output import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, Output, UsageError
from quotadesk.cli.parser import build_parser
from quotadesk.db import DatabaseCorrupt, SchemaTooNew, plain_database_error
from quotadesk.db.files import DatabaseUnusable, UnsafeTarget
from quotadesk.services import setup, usage
from quotadesk.services.errors import QuotaDeskError, echo
from quotadesk.services.unit_of_work import Desk, fixed_clock, system_clock

__all__ = ["EXIT_OK", "EXIT_REFUSED", "EXIT_USAGE", "Output", "build_parser", "client_json",
           "main"]


def _clock(value: str | None, desk: Desk) -> Callable[[], datetime]:
    if value is None:
        return system_clock
    moment = usage.parse_time(value, desk.timezone if desk.initialised else UTC,  # type: ignore[arg-type]
                              "now")
    return fixed_clock(moment)


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    os.umask(0o077)  # every file QuotaDesk writes is its owner's alone (SPEC §8)
    parser = build_parser()
    try:
        args = parser.parse_args(args_list)
    except UsageError as error:
        print(error, file=sys.stderr)
        return EXIT_USAGE
    if args.command in (None, "gui") or args.self_test:
        from quotadesk.app import run_gui

        return run_gui(db=args.db, now=args.now, self_test=bool(args.self_test))
    desk: Desk | None = None
    code = EXIT_REFUSED
    try:
        if args.command == "restore":
            return _restore(args)
        desk = Desk.open(args.db)
        if args.command != "init" and not desk.initialised:
            setup.init_database(desk)
            desk.forget_settings()
        desk.clock = _clock(args.now, desk)
        args.handler(desk, args, Output(desk, args.json))
        code = EXIT_OK
        return EXIT_OK
    except UsageError as error:
        print(error, file=sys.stderr)
        return EXIT_USAGE
    except QuotaDeskError as error:
        print(f"quotadesk: {error.message}", file=sys.stderr)
        return EXIT_REFUSED
    except (UnsafeTarget, DatabaseUnusable) as error:
        field = "" if isinstance(error, UnsafeTarget) else "database: "
        print(f"quotadesk: {field}{error.message}", file=sys.stderr)
        return EXIT_REFUSED
    except DatabaseCorrupt as error:
        restore = (f" Restore the latest backup with `quotadesk restore {error.latest_backup}`."
                   if error.latest_backup else " Restore a backup with `quotadesk restore FILE`.")
        print(f"quotadesk: database: {error.path} is damaged and was left untouched "
              f"({error.detail[:200]}).{restore}", file=sys.stderr)
        return EXIT_REFUSED
    except SchemaTooNew as error:
        print(f"quotadesk: database: {error}", file=sys.stderr)
        return EXIT_REFUSED
    except BrokenPipeError:
        # `quotadesk --json payments | head`: the reader left; that is not an error.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except (SQLAlchemyError, sqlite3.Error, OSError) as error:
        print(f"quotadesk: database: {plain_database_error(error)}", file=sys.stderr)
        return EXIT_REFUSED
    except MemoryError:
        print("quotadesk: out of memory: the input is too large for this machine",
              file=sys.stderr)
        return EXIT_REFUSED
    except Exception as error:  # never a traceback: one line, the details in the log
        print(f"quotadesk: unexpected error ({type(error).__name__}): "
              f"{echo(error, 200)}; details in {internal_error_log(error)}", file=sys.stderr)
        return EXIT_REFUSED
    finally:
        if desk is not None:
            desk.close()
            if code != EXIT_OK:
                desk.database.remove_if_created()


def _restore(args: Any) -> int:
    """`restore` runs on the file itself, unopened: the way out of a damaged database."""
    result = setup.restore_database(args.db, args.file)
    if args.json:
        json.dump(restore_json(args.file, result), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        print("\n".join(restore_lines(args.file, result)))
    return EXIT_OK


def internal_error_log(error: BaseException) -> str:
    """Append the traceback of an unexpected error to the log file (never personal data: only
    the code's frames); its path for the message."""
    import traceback

    from quotadesk.app import log_dir

    try:
        folder = log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "quotadesk.log"
        frames = traceback.format_exception(type(error), None, error.__traceback__)
        with open(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600), "a",
                  encoding="utf-8") as log:
            log.write(f"{datetime.now(UTC).isoformat()} ERROR quotadesk.cli: "
                      f"{type(error).__name__}\n{''.join(frames)}")
        return str(path)
    except OSError:
        return "the log (which could not be written)"


if __name__ == "__main__":
    raise SystemExit(main())
