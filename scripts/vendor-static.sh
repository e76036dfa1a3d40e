#!/usr/bin/env bash
# Vendor the pinned front-end assets into static/vendor/ (and axe-core into
# tests/assets/). Idempotent: running it again with the same pins rewrites
# byte-identical files. Needs node + npm and access to the npm registry.
#
#   bash scripts/vendor-static.sh          # (re)write the vendored files
#   bash scripts/vendor-static.sh --check  # exit 1 if the tree differs from the pins
#
# To upgrade: change a version below, run the script, review the diff
# (component CSS and tokens can rename custom properties), update
# static/vendor/README.md, commit.
set -euo pipefail

# --- pins (exact versions only) ---------------------------------------------
UTRECHT_CL_PKG="@utrecht/component-library-css"
UTRECHT_CL_VERSION="9.0.4"
# NL Design System "Voorbeeld" (example) theme, EUPL-1.2. NOT @utrecht/design-tokens:
# that package is licensed "All rights reserved ... proprietary assets to Gemeente
# Utrecht" (see its LICENSE.md), so it may not be redistributed in this portal.
TOKENS_PKG="@nl-design-system-unstable/voorbeeld-design-tokens"
TOKENS_VERSION="7.4.1"
HTMX_PKG="htmx.org"
HTMX_VERSION="2.0.11"
AXE_PKG="axe-core"
AXE_VERSION="4.14.1"
# ----------------------------------------------------------------------------

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CHECK=0
case "${1:-}" in
  "") ;;
  --check) CHECK=1 ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

command -v npm >/dev/null || { echo "vendor-static: npm not found" >&2; exit 1; }
command -v node >/dev/null || { echo "vendor-static: node not found" >&2; exit 1; }

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/npm" "$WORK/out"
printf '{ "name": "wijkkracht-vendor", "private": true }\n' >"$WORK/npm/package.json"

echo "vendor-static: installing pinned packages ..."
npm install --prefix "$WORK/npm" --no-save --ignore-scripts \
  --no-audit --no-fund --no-package-lock --loglevel=error \
  "${UTRECHT_CL_PKG}@${UTRECHT_CL_VERSION}" \
  "${TOKENS_PKG}@${TOKENS_VERSION}" \
  "${HTMX_PKG}@${HTMX_VERSION}" \
  "${AXE_PKG}@${AXE_VERSION}" >/dev/null

NM="$WORK/npm/node_modules"

# Fail loudly if npm resolved anything other than the exact pin.
assert_version() { # pkg expected
  local got
  got="$(node -p "require(process.argv[1]).version" "$NM/$1/package.json")"
  if [[ "$got" != "$2" ]]; then
    echo "vendor-static: $1 resolved to $got, expected $2" >&2
    exit 1
  fi
}
# Copy a file that must exist in the package (no guessing at file names).
take() { # src dest
  if [[ ! -f "$1" ]]; then
    echo "vendor-static: missing $1 (package layout changed?)" >&2
    exit 1
  fi
  mkdir -p "$(dirname "$2")"
  cp "$1" "$2"
  chmod 0644 "$2"
}

assert_version "$UTRECHT_CL_PKG" "$UTRECHT_CL_VERSION"
assert_version "$TOKENS_PKG" "$TOKENS_VERSION"
assert_version "$HTMX_PKG" "$HTMX_VERSION"
assert_version "$AXE_PKG" "$AXE_VERSION"

O="$WORK/out"

# Utrecht component library: dist/index.css is the all-in-one bundle (no @import).
take "$NM/$UTRECHT_CL_PKG/dist/index.css" "$O/static/vendor/utrecht/component-library.css"
take "$NM/$UTRECHT_CL_PKG/LICENSE.md"     "$O/static/vendor/utrecht/LICENSE.md"
echo "${UTRECHT_CL_PKG}@${UTRECHT_CL_VERSION}" >"$O/static/vendor/utrecht/VERSION"

# Design tokens: dist/theme.css declares every custom property on .voorbeeld-theme.
take "$NM/$TOKENS_PKG/dist/theme.css"  "$O/static/vendor/nlds-voorbeeld/design-tokens.css"
take "$NM/$TOKENS_PKG/LICENSE.md"      "$O/static/vendor/nlds-voorbeeld/LICENSE.md"
echo "${TOKENS_PKG}@${TOKENS_VERSION}" >"$O/static/vendor/nlds-voorbeeld/VERSION"
if ! grep -q '^\.voorbeeld-theme {' "$O/static/vendor/nlds-voorbeeld/design-tokens.css"; then
  echo "vendor-static: design-tokens.css no longer declares .voorbeeld-theme" >&2
  exit 1
fi

take "$NM/$HTMX_PKG/dist/htmx.min.js" "$O/static/vendor/htmx/htmx.min.js"
take "$NM/$HTMX_PKG/LICENSE"          "$O/static/vendor/htmx/LICENSE"
echo "${HTMX_PKG}@${HTMX_VERSION}" >"$O/static/vendor/htmx/VERSION"

# axe-core is test-only; axe.min.js carries its MPL-2.0 notice in its header.
take "$NM/$AXE_PKG/axe.min.js" "$O/tests/assets/axe.min.js"

FILES=(
  static/vendor/utrecht/component-library.css
  static/vendor/utrecht/LICENSE.md
  static/vendor/utrecht/VERSION
  static/vendor/nlds-voorbeeld/design-tokens.css
  static/vendor/nlds-voorbeeld/LICENSE.md
  static/vendor/nlds-voorbeeld/VERSION
  static/vendor/htmx/htmx.min.js
  static/vendor/htmx/LICENSE
  static/vendor/htmx/VERSION
  tests/assets/axe.min.js
)

if [[ "$CHECK" == 1 ]]; then
  status=0
  for f in "${FILES[@]}"; do
    if ! cmp -s "$O/$f" "$ROOT/$f"; then
      echo "vendor-static: out of date: $f" >&2
      status=1
    fi
  done
  [[ "$status" == 0 ]] && echo "vendor-static: all vendored files match the pins"
  exit "$status"
fi

changed=0
for f in "${FILES[@]}"; do
  if ! cmp -s "$O/$f" "$ROOT/$f"; then
    mkdir -p "$(dirname "$ROOT/$f")"
    cp "$O/$f" "$ROOT/$f"
    chmod 0644 "$ROOT/$f"
    echo "vendor-static: wrote $f"
    changed=$((changed + 1))
  fi
done
echo "vendor-static: done ($changed file(s) changed)"
