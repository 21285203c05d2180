#!/bin/sh
# Rebuilds test/go/bin/golden and rewrites the committed fixtures from its output
# (test/fixtures/memberlist/golden.json, prettier-formatted). Run after changing
# test/go/golden; `npm run test:interop` checks that the committed file is current.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
"$here/build.sh"
"$here/bin/golden" > "$root/test/fixtures/memberlist/golden.json"
cd "$root" && npx prettier --write test/fixtures/memberlist/golden.json
