#!/usr/bin/env bash
# `npm test`: build, type-check tests and benchmarks, prepare the browser-test package (JupyterLab's renderers) and
# archlab's own JupyterLab, then run every test file with node's test runner. Node 20 does not expand globs
# given to --test, so the file list is built here.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run build --silent
# Tests and benchmarks run through tsx, which strips types without checking them: check them here.
node node_modules/typescript/bin/tsc -p tsconfig.check.json
# Install when missing or when the lockfile changed since the last install.
if [ ! -f test/render/node_modules/.package-lock.json ] || [ test/render/package-lock.json -nt test/render/node_modules/.package-lock.json ]; then
  npm ci --prefix test/render --no-audit --no-fund --loglevel=error
fi
npm run --prefix test/render --silent build
# archlab's own JupyterLab, installed and built into its cache by the code a first `archlab start`
# runs (a cache hit, instant, when it is there already); the JupyterLab tests use that build.
node dist/kernel/cli.js install-lab
mapfile -t files < <(find src test -name '*.test.ts' -not -path '*/node_modules/*' | sort)
exec node --import tsx --test --test-concurrency=1 "${files[@]}"
