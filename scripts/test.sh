#!/usr/bin/env bash
# `npm test`: build, type-check tests and benchmarks, prepare the two browser-test packages (JupyterLab's renderers; a real
# JupyterLab), then run every test file with node's test runner. Node 20 does not expand globs
# given to --test, so the file list is built here.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run build --silent
# Tests and benchmarks run through tsx, which strips types without checking them: check them here.
node node_modules/typescript/bin/tsc -p tsconfig.check.json
for pkg in test/render kernel/lab; do
  # Install when missing or when the lockfile changed since the last install.
  if [ ! -f "$pkg/node_modules/.package-lock.json" ] || [ "$pkg/package-lock.json" -nt "$pkg/node_modules/.package-lock.json" ]; then
    npm ci --prefix "$pkg" --no-audit --no-fund --loglevel=error
  fi
  npm run --prefix "$pkg" --silent build
done
mapfile -t files < <(find src test -name '*.test.ts' -not -path '*/node_modules/*' | sort)
exec node --import tsx --test --test-concurrency=1 "${files[@]}"
