"""The PyInstaller spec ships what the frozen app loads by path (migrations, resources, icons).

The spec is executed with stand-ins for PyInstaller's Analysis/PYZ/EXE/COLLECT/BUNDLE and for
its hook helpers, so nothing is built and PyInstaller need not be installed. One test runs the real
hook helpers when PyInstaller is there, to check babel's and tzdata's data are really collected.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import struct
import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
SPEC = PACKAGING / "quotadesk.spec"
MIGRATIONS = ROOT / "quotadesk" / "migrations"
RESOURCES = ROOT / "resources"
ICONS = RESOURCES / "icons"


class Call:
    """Stands in for one of PyInstaller's build targets and records how the spec made it."""

    def __init__(self, kind: str, log: list[Call], *args: Any, **kwargs: Any) -> None:
        self.kind, self.args, self.kwargs = kind, args, kwargs
        # What the spec reads from an Analysis.
        self.scripts: list[Any] = []
        self.pure: list[Any] = []
        self.binaries: list[Any] = []
        self.datas: list[Any] = []
        self.zipped_data: list[Any] = []
        log.append(self)


def _fake_hooks() -> dict[str, types.ModuleType]:
    """PyInstaller.utils.hooks with markers instead of real collection (no subprocesses)."""
    hooks = types.ModuleType("PyInstaller.utils.hooks")

    def collect_data_files(package: str, *args: Any, **kwargs: Any) -> list[tuple[str, str]]:
        return [(f"<data of {package}>", package)]

    def collect_submodules(package: str, filter: Callable[[str], bool] = lambda n: True,
                           **kwargs: Any) -> list[str]:
        return [package] if filter(package) else []

    hooks.collect_data_files = collect_data_files  # type: ignore[attr-defined]
    hooks.collect_submodules = collect_submodules  # type: ignore[attr-defined]
    return {
        "PyInstaller": types.ModuleType("PyInstaller"),
        "PyInstaller.utils": types.ModuleType("PyInstaller.utils"),
        "PyInstaller.utils.hooks": hooks,
    }


SpecLoader = Callable[..., dict[str, Any]]


@pytest.fixture
def load_spec(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[SpecLoader]:
    """Execute the spec as PyInstaller would; returns its namespace plus "calls"."""
    saved_path = list(sys.path)

    def load(*, platform: str | None = None, real_hooks: bool = False,
             debug_console: str | None = None) -> dict[str, Any]:
        if not real_hooks:
            for name, module in _fake_hooks().items():
                monkeypatch.setitem(sys.modules, name, module)
        if debug_console is None:
            monkeypatch.delenv("QUOTADESK_DEBUG_CONSOLE", raising=False)
        else:
            monkeypatch.setenv("QUOTADESK_DEBUG_CONSOLE", debug_console)
        calls: list[Call] = []

        def target(kind: str) -> Callable[..., Call]:
            return lambda *args, **kwargs: Call(kind, calls, *args, **kwargs)

        namespace: dict[str, Any] = {
            "__name__": "__main__",
            "__file__": str(SPEC),
            "SPEC": str(SPEC),
            "SPECPATH": str(PACKAGING),
            "specnm": "quotadesk",
            "workpath": str(tmp_path / "build"),
            "DISTPATH": str(tmp_path / "dist"),
            "WARNFILE": str(tmp_path / "warn.txt"),
            "HOMEPATH": str(tmp_path),
            **{kind: target(kind) for kind in ("Analysis", "PYZ", "EXE", "COLLECT", "BUNDLE")},
            "calls": calls,
        }
        code = compile(SPEC.read_bytes(), str(SPEC), "exec")
        with monkeypatch.context() as patch:
            if platform is not None:
                patch.setattr(sys, "platform", platform)
            exec(code, namespace)
        return namespace

    yield load
    sys.path[:] = saved_path


def only(ns: dict[str, Any], kind: str) -> Call:
    calls: list[Call] = ns["calls"]
    matches = [c for c in calls if c.kind == kind]
    assert len(matches) == 1, f"expected one {kind}, got {len(matches)}"
    return matches[0]


def shipped_files(src_root: Path) -> list[Path]:
    return sorted(
        p for p in src_root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".pyo")
        and not any(part.startswith(".") for part in p.relative_to(src_root).parts)
    )


def test_migrations_ship_as_source_files_at_quotadesk_migrations(load_spec: SpecLoader) -> None:
    datas = set(only(load_spec(), "Analysis").kwargs["datas"])
    files = shipped_files(MIGRATIONS)
    assert MIGRATIONS / "env.py" in files
    assert any(p.parent.name == "versions" and p.suffix == ".py" for p in files)
    for path in files:
        dest = Path("quotadesk/migrations", *path.relative_to(MIGRATIONS).parts[:-1]).as_posix()
        assert (str(path), dest) in datas, f"{path} is not shipped at {dest}"


def test_resources_ship_at_resources(load_spec: SpecLoader) -> None:
    datas = set(only(load_spec(), "Analysis").kwargs["datas"])
    files = shipped_files(RESOURCES)
    assert ICONS / "quotadesk.png" in files
    for path in files:
        dest = Path("resources", *path.relative_to(RESOURCES).parts[:-1]).as_posix()
        assert (str(path), dest) in datas, f"{path} is not shipped at {dest}"


def test_runtime_data_and_hidden_imports(load_spec: SpecLoader) -> None:
    analysis = only(load_spec(), "Analysis")
    datas, hidden = analysis.kwargs["datas"], set(analysis.kwargs["hiddenimports"])
    assert ("<data of babel>", "babel") in datas  # locale-data/ and global.dat
    assert ("<data of tzdata>", "tzdata") in datas
    for name in ("sqlalchemy.dialects.sqlite", "alembic.runtime.migration",
                 "alembic.runtime.environment", "alembic.ddl.sqlite", "alembic.op",
                 "babel.numbers", "babel.dates", "tzdata", "appdirs", "quotadesk"):
        assert name in hidden, name
    # Whatever the migration scripts import must be in the archive: PyInstaller never sees them.
    for path in MIGRATIONS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                assert node.module in hidden, f"{node.module} (imported by {path.name})"
            elif isinstance(node, ast.Import):
                assert {a.name for a in node.names} <= hidden, path.name
    assert analysis.args[0] == [str(ROOT / "quotadesk" / "__main__.py")]
    assert str(ROOT) in analysis.kwargs["pathex"]


def test_unused_qt_modules_and_dev_tools_are_excluded(load_spec: SpecLoader) -> None:
    excludes = set(only(load_spec(), "Analysis").kwargs["excludes"])
    for name in ("tkinter", "PySide6.QtWebEngineCore", "PySide6.Qt3DCore", "PySide6.QtQml",
                 "PySide6.QtQuick", "PySide6.QtMultimedia", "PySide6.QtNetwork", "PySide6.QtPdf",
                 "pytest", "sqlalchemy.testing"):
        assert name in excludes, name
    # The usage charts ship: QtCharts (the Python OpenGL bindings stay out: 9 MB).
    assert "PySide6.QtOpenGL" in excludes
    for used in ("PySide6.QtCore", "PySide6.QtGui", "PySide6.QtWidgets", "PySide6.QtSvg",
                 "PySide6.QtCharts"):
        assert used not in excludes, used


def test_filter_drops_unwanted_qt_pieces_and_keeps_the_rest(load_spec: SpecLoader) -> None:
    keep = load_spec()["_keep"]
    dropped = [
        ("PySide6/Qt/lib/libQt6Pdf.so.6", "/x/libQt6Pdf.so.6", "BINARY"),
        ("PySide6/Qt6Network.dll", "C:/x/Qt6Network.dll", "BINARY"),
        ("PySide6/Qt/lib/QtQuick.framework/Versions/A/QtQuick", "/x/QtQuick", "BINARY"),
        ("PySide6/Qt/plugins/imageformats/libqpdf.so", "/x/libqpdf.so", "BINARY"),
        ("PySide6/plugins/imageformats/qpdf.dll", "C:/x/qpdf.dll", "BINARY"),
        ("libQt6Network.so.6", "PySide6/Qt/lib/libQt6Network.so.6", "SYMLINK"),
        ("PySide6/Qt/translations/qtdeclarative_de.qm", "/x/qtdeclarative_de.qm", "DATA"),
        # No QTranslator is installed: Qt's own catalogs are never loaded either.
        ("PySide6/Qt/translations/qtbase_de.qm", "/x/qtbase_de.qm", "DATA"),
    ]
    kept = [
        ("PySide6/Qt/lib/libQt6Widgets.so.6", "/x/libQt6Widgets.so.6", "BINARY"),
        ("PySide6/Qt/plugins/platforms/libqxcb.so", "/x/libqxcb.so", "BINARY"),
        ("PySide6/plugins/platforms/qwindows.dll", "C:/x/qwindows.dll", "BINARY"),
        ("PySide6/Qt/plugins/imageformats/libqsvg.so", "/x/libqsvg.so", "BINARY"),
        ("resources/translations/quotadesk_de.qm", "/x/quotadesk_de.qm", "DATA"),
        ("quotadesk/migrations/env.py", "/x/env.py", "DATA"),
    ]
    assert [e for e in dropped if keep(e)] == []
    assert [e for e in kept if not keep(e)] == []


def test_one_folder_build_without_console_by_default(load_spec: SpecLoader) -> None:
    ns = load_spec()
    exe, coll = only(ns, "EXE"), only(ns, "COLLECT")
    assert exe.kwargs["exclude_binaries"] is True  # one-folder: binaries go to COLLECT
    assert exe.kwargs["name"] == "quotadesk" and coll.kwargs["name"] == "quotadesk"
    assert exe.kwargs["console"] is False
    assert exe.kwargs["upx"] is False and coll.kwargs["upx"] is False


def test_console_only_when_debug_console_is_set(load_spec: SpecLoader) -> None:
    assert only(load_spec(debug_console="1"), "EXE").kwargs["console"] is True
    assert only(load_spec(debug_console="0"), "EXE").kwargs["console"] is False


def test_version_comes_from_the_package_source(load_spec: SpecLoader) -> None:
    text = (ROOT / "quotadesk" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r"""^__version__\s*=\s*["']([^"']+)["']""", text, re.MULTILINE)
    assert match
    assert load_spec()["VERSION"] == match.group(1)


def test_windows_gets_the_ico_and_a_version_resource(load_spec: SpecLoader) -> None:
    ns = load_spec(platform="win32")
    exe = only(ns, "EXE")
    icon = Path(exe.kwargs["icon"])
    assert icon == ICONS / "quotadesk.ico" and icon.read_bytes()[:4] == b"\x00\x00\x01\x00"
    assert not [c for c in ns["calls"] if c.kind == "BUNDLE"]
    version_file = Path(exe.kwargs["version"])
    text = version_file.read_text(encoding="utf-8")
    nums = ns["NUMERIC_VERSION"]
    assert f"filevers={nums!r}" in text and f"'ProductVersion', {ns['VERSION']!r}" in text

    # The text is the Python expression PyInstaller evaluates: check it builds, with stand-ins.
    def record(name: str) -> Callable[..., tuple[str, tuple[Any, ...], dict[str, Any]]]:
        return lambda *a, **k: (name, a, k)

    names = ("VSVersionInfo", "FixedFileInfo", "StringFileInfo", "StringTable", "StringStruct",
             "VarFileInfo", "VarStruct")
    info = eval(text, {n: record(n) for n in names})
    assert info[0] == "VSVersionInfo" and info[2]["ffi"][2]["filevers"] == nums


def test_macos_gets_an_app_bundle_with_its_info_plist(load_spec: SpecLoader) -> None:
    ns = load_spec(platform="darwin")
    bundle = only(ns, "BUNDLE")
    assert bundle.kwargs["name"] == "QuotaDesk.app"
    assert bundle.kwargs["bundle_identifier"] == "com.quotadesk.QuotaDesk"
    icon = Path(bundle.kwargs["icon"])
    assert icon == ICONS / "quotadesk.icns" and icon.read_bytes()[:4] == b"icns"
    assert only(ns, "EXE").kwargs["version"] is None
    plist = bundle.kwargs["info_plist"]
    assert plist["CFBundleShortVersionString"] == ns["VERSION"]
    assert plist["NSHighResolutionCapable"] is True
    assert plist["NSRequiresAquaSystemAppearance"] is False  # dark mode allowed


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_icon_files_are_complete() -> None:
    assert _png_size(ICONS / "quotadesk.png") == (256, 256)
    assert _png_size(ICONS / "quotadesk@2x.png") == (512, 512)
    ico = (ICONS / "quotadesk.ico").read_bytes()
    count = struct.unpack("<H", ico[4:6])[0]
    sizes = {ico[6 + 16 * i] or 256 for i in range(count)}
    assert {16, 24, 32, 48, 256} <= sizes
    icns = (ICONS / "quotadesk.icns").read_bytes()
    assert icns[:4] == b"icns" and struct.unpack(">I", icns[4:8])[0] == len(icns)
    for kind in (b"ic07", b"ic08", b"ic09", b"ic10"):  # 128, 256, 512, 1024 px
        assert kind in icns


def test_numeric_version_for_installers() -> None:
    spec = importlib.util.spec_from_file_location("qd_version_info_test",
                                                  PACKAGING / "version_info.py")
    assert spec and spec.loader
    helper = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(helper)
    assert helper.numeric_version("1.2") == (1, 2, 0, 0)
    assert helper.numeric_version("1.2.3rc1") == (1, 2, 3, 0)
    assert helper.numeric_version("2.0.0.dev4") == (2, 0, 0, 0)


@pytest.mark.slow  # runs PyInstaller's real hooks
def test_real_hooks_collect_babel_and_tzdata_data(load_spec: SpecLoader) -> None:
    pytest.importorskip("PyInstaller.utils.hooks")
    datas = only(load_spec(real_hooks=True), "Analysis").kwargs["datas"]
    dests = {(Path(src).name, dest.replace("\\", "/")) for src, dest in datas}
    assert ("global.dat", "babel") in dests
    assert ("en.dat", "babel/locale-data") in dests
    assert any(dest.startswith("tzdata/zoneinfo") for _, dest in dests)


def test_one_openssl_and_trimmed_babel_data(load_spec: SpecLoader, tmp_path: Path) -> None:
    import pickle

    ns = load_spec()
    binaries = [("libcrypto.so.3", "/usr/lib/libcrypto.so.3", "BINARY"),
                ("libssl.so.3", "/usr/lib/libssl.so.3", "BINARY"),
                ("psycopg_binary.libs/libcrypto-3a0647ea.so.3", "/x/libcrypto-3a.so.3", "BINARY"),
                ("psycopg_binary.libs/libssl-6a9b88ec.so.3", "/x/libssl-6a.so.3", "BINARY")]
    linked = ns["_one_openssl"](binaries)
    assert linked[:2] == [
        ("libcrypto.so.3", "psycopg_binary.libs/libcrypto-3a0647ea.so.3", "SYMLINK"),
        ("libssl.so.3", "psycopg_binary.libs/libssl-6a9b88ec.so.3", "SYMLINK")]
    assert ns["_one_openssl"](binaries[:2]) == binaries[:2]  # without psycopg: untouched
    babel = pytest.importorskip("babel")
    source = Path(babel.__file__).parent / "locale-data" / "de_CH.dat"
    [(dest, src, kind)] = ns["_trim_babel"]([("babel/locale-data/de_CH.dat", str(source),
                                              "DATA")], tmp_path)
    assert (dest, kind) == ("babel/locale-data/de_CH.dat", "DATA")
    with open(src, "rb") as file:
        data = pickle.load(file)
    assert "currency_formats" in data or "number_symbols" in data
    assert not set(data) & ns["BABEL_UNUSED_KEYS"]
    assert Path(src).stat().st_size < source.stat().st_size


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the ICU data stub is Linux's")
def test_icu_data_is_replaced_by_the_empty_stub(load_spec: SpecLoader, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    if not (shutil.which("cc") or shutil.which("gcc")):
        pytest.skip("no C compiler")
    ns = load_spec()
    real = tmp_path / "libicudata.so.73"
    real.write_bytes(b"\0" * 4096)
    entries = [("PySide6/Qt/lib/libicudata.so.73", str(real), "BINARY"),
               ("PySide6/Qt/lib/libicuuc.so.73", "/x/libicuuc.so.73", "BINARY")]
    [(dest, src, kind), other] = ns["_icu_without_data"](entries, tmp_path / "work")
    assert (dest, kind) == ("PySide6/Qt/lib/libicudata.so.73", "BINARY") and other == entries[1]
    assert src != str(real) and b"icudt73_dat" in Path(src).read_bytes()
    monkeypatch.setenv("QUOTADESK_FULL_ICU", "1")
    assert ns["_icu_without_data"](entries, tmp_path / "work") == entries


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a Linux bundle's rule")
def test_linux_system_libraries_are_left_to_the_system_but_xcb_helpers_ship(
        load_spec: SpecLoader) -> None:
    system_library = load_spec()["_system_library"]
    for name in ("libX11.so.6", "libglib-2.0.so.0", "libfontconfig.so.1", "libsystemd.so.0",
                 "libgcc_s.so.1", "libxcb.so.1"):
        assert system_library(name), name
    for name in ("libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxkbcommon-x11.so.0",
                 "libstdc++.so.6", "libffi.so.8", "libsqlite3.so.0", "libpython3.11.so.1.0",
                 "PySide6/Qt/lib/libQt6Gui.so.6", "libX11.so.6.extra/whatever"):
        assert not system_library(name), name
