#!/usr/bin/env bash
# Builds the web UI into web/dist. `npm ci` runs only when node_modules does not match
# package-lock.json, and the Vite build only when a source is newer than the last build.
# Used by `make run` and `make test`; packages come from the npm registry only.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v npm >/dev/null 2>&1; then
  echo "web/build.sh: npm is missing; the UI needs Node.js >= 18.19 with npm (Debian 12: apt-get install nodejs npm, or scripts/install-deps.sh)" >&2
  exit 1
fi
if [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -lt 18 ]; then
  echo "web/build.sh: node $(node --version 2>/dev/null) is too old; the UI needs Node.js >= 18.19" >&2
  exit 1
fi
stamp=node_modules/.hikeshi-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  npm ci --no-audit --no-fund
  echo "$want" >"$stamp"
fi
if [ -f dist/index.html ] &&
  [ -z "$(find src public index.html vite.config.ts tsconfig.json package-lock.json -newer dist/index.html -print -quit)" ]; then
  echo "web/build.sh: web/dist is up to date"
  exit 0
fi
npm run build
