#!/usr/bin/env bash
# The install guard with real npms, on a fresh clone of this checkout's HEAD (a few minutes, needs the
# npm registry; not part of npm test): Node 20's own npm 10.8.2 must stop with the guard's line and leave
# package-lock.json as it was, and npm 11 must then install Node.js 24 at node_modules/.bin/node.
#   bash scripts/install-guard/try.sh [npm version to refuse, default 10.8.2]
set -euo pipefail
old="${1:-10.8.2}"
repo="$(cd "$(dirname "$0")/../.." && pwd)"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
git clone -q "$repo" "$dir/handoff"
cd "$dir/handoff"
fail() { echo "FAIL: $*" >&2; exit 1; }

echo "npm $old install …"
if npx -y "npm@$old" install --no-audit --no-fund >"$dir/old.log" 2>&1; then
  fail "npm $old install succeeded"
fi
grep -q "Handoff needs npm ≥ 11 (this is npm $old" "$dir/old.log" || { cat "$dir/old.log"; fail "no guard line"; }
git diff --quiet -- package-lock.json || fail "npm $old rewrote package-lock.json"
[ ! -e node_modules/.bin/node ] || fail "node_modules/.bin/node exists after the refused install"
grep "Handoff needs" "$dir/old.log"

echo "npx npm@11 install …"
npx -y npm@11 install --no-audit --no-fund >"$dir/new.log" 2>&1 || { cat "$dir/new.log"; fail "npm 11 install failed"; }
git diff --quiet -- package-lock.json || fail "npm 11 rewrote package-lock.json"
echo "node_modules/.bin/node: $(node_modules/.bin/node --version)"
echo "ok"
