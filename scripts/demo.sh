#!/usr/bin/env bash
# Builds a real git repository from testdata/demo (a base commit, then a
# head commit that moves the Postgres image from Debian to Alpine and
# regroups config/options.yml per environment), runs
# breakwater check on it, and reports breakwater's exit code.
set -euo pipefail
bin=${1:?usage: demo.sh BINARY}
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
src=$(cd "$(dirname "$0")/../testdata/demo" && pwd)
repo=$(mktemp -d "${TMPDIR:-/tmp}/breakwater-demo.XXXXXX")
trap 'rm -rf "$repo"' EXIT

git() { command git -C "$repo" -c user.name=demo -c user.email=demo@example.invalid -c commit.gpgsign=false "$@"; }
git init -q -b main
cp -R "$src/base/." "$repo/"
git add -A && git commit -q -m "base: Postgres 11 on Debian stretch"
git checkout -q -b switch-to-alpine
find "$repo" -mindepth 1 -maxdepth 1 ! -name .git -exec rm -rf {} +
cp -R "$src/head/." "$repo/"
git add -A && git commit -q -m "head: smaller image, switch to Alpine; options per environment"

echo "\$ breakwater check --repo $repo    # base: main, head: switch-to-alpine"
set +e
"$bin" check --repo "$repo"
code=$?
set -e
echo
echo "breakwater exited with code $code (0 clean, 1 findings at or above --fail-on, 2 breakwater failed)"
[ "$code" -le 1 ]
