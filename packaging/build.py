"""Build QuotaDesk's one-folder bundle, smoke-run it, and make the platform's installer.

    python packaging/build.py [--smoke] [--installer] [--skip-build]

1. PyInstaller with packaging/quotadesk.spec, from the repo root: dist/ and build/ there.
2. --smoke: runs the frozen app with --self-test (QT_QPA_PLATFORM=offscreen) and fails unless it
   exits 0; prints the bundle's size and how long the frozen self-test took.
3. --installer, per platform:
   Windows: Inno Setup (packaging/windows/quotadesk.iss) -> dist/QuotaDesk-<v>-windows-x64-setup.exe
   macOS:   packaging/macos/make_dmg.sh -> dist/QuotaDesk-<v>-macos-<arch>.dmg
   Linux:   dist/quotadesk-<v>-linux-<arch>.tar.gz of the one-folder bundle

Exits non-zero, with the reason, on any failure. See packaging/README.md for signing.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

PACKAGING = Path(__file__).resolve().parent
ROOT = PACKAGING.parent
SPEC = PACKAGING / "quotadesk.spec"
DIST = ROOT / "dist"
WORK = ROOT / "build"
APP_NAME = "QuotaDesk"
EXE_NAME = "quotadesk"
SMOKE_TIMEOUT_S = 180

IS_WIN = sys.platform == "win32"
IS_MAC = sys.platform == "darwin"


class BuildError(Exception):
    """A step failed; the message says which and why."""


def step(message: str) -> None:
    print(f"\n==> {message}", flush=True)


def _version_helper():
    spec = importlib.util.spec_from_file_location(
        "quotadesk_packaging_version_info", PACKAGING / "version_info.py"
    )
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def bundle_dir() -> Path:
    """What gets shipped: the .app on macOS, the one-folder directory elsewhere."""
    return DIST / f"{APP_NAME}.app" if IS_MAC else DIST / EXE_NAME


def frozen_executable() -> Path:
    if IS_MAC:
        return DIST / f"{APP_NAME}.app" / "Contents" / "MacOS" / EXE_NAME
    return DIST / EXE_NAME / (f"{EXE_NAME}.exe" if IS_WIN else EXE_NAME)


def folder_size(path: Path) -> int:
    """Bytes of every file under path; symlinks counted as links, not followed."""
    total = 0
    for dirpath, _dirnames, filenames in os.walk(path):
        for name in filenames:
            total += os.lstat(os.path.join(dirpath, name)).st_size
    return total


def run(cmd: list[str], *, what: str, env: dict[str, str] | None = None) -> None:
    # The sign command may hold a password: never echo it.
    shown = ["/Squotadesk=<QUOTADESK_SIGNTOOL>" if str(c).startswith("/S") else str(c) for c in cmd]
    print("$ " + " ".join(shlex.quote(c) for c in shown), flush=True)
    try:
        result = subprocess.run([str(c) for c in cmd], cwd=ROOT, env=env)
    except FileNotFoundError as exc:
        raise BuildError(f"{what}: cannot run {cmd[0]}: {exc}") from exc
    if result.returncode != 0:
        raise BuildError(f"{what} failed with exit code {result.returncode}")


def build() -> None:
    step(f"PyInstaller: {SPEC.relative_to(ROOT)} -> {DIST.relative_to(ROOT)}/")
    start = time.perf_counter()
    run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--clean",
            "--distpath",
            DIST,
            "--workpath",
            WORK,
            SPEC,
        ],
        what="PyInstaller",
    )
    exe = frozen_executable()
    if not exe.is_file():
        raise BuildError(f"PyInstaller finished but {exe} is missing")
    print(f"built {bundle_dir().relative_to(ROOT)} in {time.perf_counter() - start:.1f} s")


def smoke() -> None:
    exe = frozen_executable()
    if not exe.is_file():
        raise BuildError(f"no frozen app at {exe}: build it first (drop --skip-build)")
    step(f"smoke test: {exe.relative_to(ROOT)} --self-test")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    start = time.perf_counter()
    try:
        result = subprocess.run(
            [str(exe), "--self-test"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=SMOKE_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as exc:
        raise BuildError(f"the frozen self-test did not finish within {SMOKE_TIMEOUT_S} s") from exc
    elapsed = time.perf_counter() - start
    for label, text in (("stdout", result.stdout), ("stderr", result.stderr)):
        if text.strip():
            print(f"--- self-test {label} ---\n{text.rstrip()}")
    size_mb = folder_size(bundle_dir()) / (1024 * 1024)
    print(f"bundle size: {size_mb:.1f} MB ({bundle_dir().relative_to(ROOT)})")
    print(f"frozen self-test: exit {result.returncode} in {elapsed:.2f} s (start to exit)")
    if result.returncode != 0:
        raise BuildError(f"the frozen self-test exited {result.returncode}, expected 0")


def _find_iscc() -> str:
    candidates = [
        os.environ.get("ISCC", ""),
        shutil.which("iscc") or "",
        shutil.which("ISCC") or "",
    ]
    for var in ("ProgramFiles(x86)", "ProgramFiles", "LOCALAPPDATA"):
        base = os.environ.get(var)
        if base:
            candidates += [
                str(Path(base) / "Inno Setup 6" / "ISCC.exe"),
                str(Path(base) / "Programs" / "Inno Setup 6" / "ISCC.exe"),
            ]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return candidate
    raise BuildError(
        "Inno Setup's ISCC.exe not found: install Inno Setup 6 "
        "(choco install innosetup -y) or set ISCC to its path"
    )


def _sign_windows_file(path: Path) -> None:
    """Sign with the command in QUOTADESK_SIGNTOOL (Inno-style, $f = the file), if it is set."""
    template = os.environ.get("QUOTADESK_SIGNTOOL", "").strip()
    if not template:
        return
    step(f"signing {path.relative_to(ROOT)}")
    cmd = template.replace("$f", f'"{path}"')
    # Windows: CreateProcess parses the string itself (quotes around paths with spaces work).
    result = subprocess.run(cmd if IS_WIN else shlex.split(cmd), cwd=ROOT)
    if result.returncode != 0:
        raise BuildError(f"signing {path.name} failed with exit code {result.returncode}")


def installer_windows(version: str, numeric: str) -> Path:
    iscc = _find_iscc()
    _sign_windows_file(frozen_executable())
    step("Inno Setup: packaging/windows/quotadesk.iss")
    arch = {"amd64": "x64", "x86_64": "x64", "arm64": "arm64"}.get(
        platform.machine().lower(), "x64"
    )
    out = DIST / f"{APP_NAME}-{version}-windows-{arch}-setup.exe"
    cmd = [
        iscc,
        "/Qp",
        f"/DMyAppVersion={version}",
        f"/DMyAppNumericVersion={numeric}",
        f"/DSourceDir={DIST / EXE_NAME}",
        f"/DOutputDir={DIST}",
        f"/DOutputBaseFilename={out.stem}",
        f"/DRepoRoot={ROOT}",
    ]
    signtool = os.environ.get("QUOTADESK_SIGNTOOL", "").strip()
    if signtool:
        # Inno signs Setup and the uninstaller itself with a named tool: SignTool=quotadesk.
        # ISCC's command line has no escaped quotes: Inno spells a quote inside it as $q.
        cmd += ["/Squotadesk=" + signtool.replace('"', "$q"), "/DSIGN=1"]
    cmd.append(PACKAGING / "windows" / "quotadesk.iss")
    run(cmd, what="ISCC")
    if not out.is_file():
        raise BuildError(f"ISCC finished but {out} is missing")
    return out


def installer_macos(version: str) -> Path:
    step("DMG: packaging/macos/make_dmg.sh")
    arch = platform.machine() or "universal"
    out = DIST / f"{APP_NAME}-{version}-macos-{arch}.dmg"
    run(
        ["bash", PACKAGING / "macos" / "make_dmg.sh", DIST / f"{APP_NAME}.app", out],
        what="make_dmg.sh",
    )
    if not out.is_file():
        raise BuildError(f"make_dmg.sh finished but {out} is missing")
    return out


def installer_linux(version: str) -> Path:
    arch = platform.machine() or "x86_64"
    out = DIST / f"{EXE_NAME}-{version}-linux-{arch}.tar.gz"
    top = f"{EXE_NAME}-{version}"
    step(f"tarball: {out.relative_to(ROOT)}")
    source = DIST / EXE_NAME

    def normalise(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        return info

    with tarfile.open(out, "w:gz") as tar:  # symlinks are stored as symlinks, modes are kept
        tar.add(source, arcname=top, filter=normalise)
    return out


def installer(version: str, numeric: str) -> Path:
    if IS_WIN:
        return installer_windows(version, numeric)
    if IS_MAC:
        return installer_macos(version)
    return installer_linux(version)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build, smoke-test and package QuotaDesk.")
    parser.add_argument("--smoke", action="store_true", help="run the frozen app with --self-test")
    parser.add_argument(
        "--installer", action="store_true", help="make the platform's installer/archive"
    )
    parser.add_argument(
        "--skip-build", action="store_true", help="reuse the bundle already in dist/"
    )
    args = parser.parse_args(argv)

    helper = _version_helper()
    version = helper.read_version(ROOT)
    numeric = ".".join(map(str, helper.numeric_version(version)))
    where = f"{platform.system()} {platform.machine()}, Python {platform.python_version()}"
    print(f"QuotaDesk {version} on {where}")
    try:
        if not args.skip_build:
            build()
        if args.smoke:
            smoke()
        if args.installer:
            out = installer(version, numeric)
            size_mb = out.stat().st_size / (1024 * 1024)
            print(f"installer: {out.relative_to(ROOT)} ({size_mb:.1f} MB)")
    except BuildError as exc:
        print(f"\nBUILD FAILED: {exc}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    print("\ndone.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
