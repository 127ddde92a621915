"""The shape the code keeps (STYLE.md): pure rules, views without SQL, modules a person can read."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "quotadesk"
RULES = sorted(p.stem for p in (PACKAGE / "services" / "rules").glob("*.py")
               if p.stem != "__init__")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_rules_import_no_sqlalchemy_and_do_no_io():
    """Every rule module loads without SQLAlchemy, the models or the unit of work."""
    code = ("import sys\n" + "".join(f"import quotadesk.services.rules.{m}\n" for m in RULES)
            + "bad = [m for m in sys.modules if m.split('.')[0] == 'sqlalchemy' or m in "
              "('quotadesk.models', 'quotadesk.db', 'quotadesk.services.unit_of_work', "
              "'sqlite3', 'quotadesk.services.account_store')]\n"
            + "print(','.join(bad))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert RULES and done.stdout.strip() == ""


@pytest.mark.parametrize("path", sorted((PACKAGE / "views").rglob("*.py")),
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_views_never_import_sqlalchemy_or_the_database(path):
    bad = {m for m in imported_modules(path)
           if m.split(".")[0] == "sqlalchemy" or m.startswith(("quotadesk.db", "quotadesk.models"))}
    assert not bad, f"{path.name} imports {sorted(bad)}"


def test_no_module_is_over_500_lines():
    long = {str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py")
            if "migrations" not in p.parts
            and (n := len(p.read_text(encoding="utf-8").splitlines())) > 500}
    assert long == {}
