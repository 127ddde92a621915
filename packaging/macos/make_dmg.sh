#!/usr/bin/env bash
# Make a compressed disk image of QuotaDesk.app, signing and notarising it when credentials are set.
#
#   bash packaging/macos/make_dmg.sh [APP] [OUT.dmg]
#     APP      default dist/QuotaDesk.app
#     OUT.dmg  default dist/QuotaDesk-<version>-macos-<arch>.dmg
#
# Normally run by `python packaging/build.py --installer` on macOS, after the smoke test.
# Optional environment (see packaging/README.md; all unset = an unsigned dmg for local testing):
#   MACOS_CODESIGN_IDENTITY  "Developer ID Application: Name (TEAMID)" in the keychain -> codesign
#   APPLE_ID, APPLE_TEAM_ID, APPLE_APP_PASSWORD  -> notarytool submit --wait, then stapler staple
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

app="${1:-dist/QuotaDesk.app}"
if [[ ! -d "$app" ]]; then
  echo "make_dmg.sh: $app not found: build it first (python packaging/build.py)" >&2
  exit 1
fi
version="$(python3 "$root/packaging/version_info.py" 2>/dev/null || true)"
if [[ -z "$version" ]]; then
  version="$(/usr/libexec/PlistBuddy -c 'Print :CFBundleShortVersionString' "$app/Contents/Info.plist")"
fi
out="${2:-dist/QuotaDesk-${version}-macos-$(uname -m).dmg}"
entitlements="$here/entitlements.plist"

if [[ -n "${MACOS_CODESIGN_IDENTITY:-}" ]]; then
  echo "==> codesign $app with ${MACOS_CODESIGN_IDENTITY}"
  # Hardened runtime (required for notarisation), secure timestamp, every nested binary signed.
  codesign --force --deep --options runtime --timestamp \
    --entitlements "$entitlements" --sign "$MACOS_CODESIGN_IDENTITY" "$app"
  codesign --verify --deep --strict --verbose=2 "$app"
else
  echo "==> MACOS_CODESIGN_IDENTITY not set: the app keeps PyInstaller's ad-hoc signature (local use only)"
fi

echo "==> hdiutil: $out"
staging="$(mktemp -d)"
trap 'rm -rf "$staging"' EXIT
# The volume shows the app beside a link to /Applications, so users can drag it across.
ditto "$app" "$staging/$(basename "$app")"
ln -s /Applications "$staging/Applications"
rm -f "$out"
hdiutil create -volname QuotaDesk -srcfolder "$staging" -ov -format UDZO "$out"

if [[ -n "${MACOS_CODESIGN_IDENTITY:-}" ]]; then
  codesign --force --timestamp --sign "$MACOS_CODESIGN_IDENTITY" "$out"
fi

if [[ -n "${APPLE_ID:-}" && -n "${APPLE_TEAM_ID:-}" && -n "${APPLE_APP_PASSWORD:-}" ]]; then
  if [[ -z "${MACOS_CODESIGN_IDENTITY:-}" ]]; then
    echo "make_dmg.sh: notarisation needs a signed app: set MACOS_CODESIGN_IDENTITY too" >&2
    exit 1
  fi
  echo "==> notarytool submit --wait"
  xcrun notarytool submit "$out" --apple-id "$APPLE_ID" --team-id "$APPLE_TEAM_ID" \
    --password "$APPLE_APP_PASSWORD" --wait
  # An "Invalid" verdict leaves nothing to staple, so the staple step fails the build (set -e);
  # `xcrun notarytool log <submission-id> ...` then says why.
  echo "==> stapler staple"
  xcrun stapler staple "$out"
  xcrun stapler validate "$out"
else
  echo "==> APPLE_ID / APPLE_TEAM_ID / APPLE_APP_PASSWORD not set: not notarised"
fi

echo "dmg: $out"
