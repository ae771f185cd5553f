#!/usr/bin/env bash
# Measures `breakwater check` on a generated repository whose head changes
# N Dockerfiles (default 2000): a third move Postgres from Debian to
# Alpine, a third bump the Postgres major, a third change a Go builder.
# Prints wall time and peak memory (max RSS) of the check alone.
set -euo pipefail
bin=${1:?usage: dockerfiles.sh BINARY [N]}
n=${2:-2000}
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
repo=$(mktemp -d "${TMPDIR:-/tmp}/breakwater-bench.XXXXXX")
trap 'rm -rf "$repo"' EXIT
git() { command git -C "$repo" -c user.name=bench -c user.email=bench@example.invalid -c commit.gpgsign=false "$@"; }

gen() { # gen SIDE
  local side=$1 i
  for ((i = 0; i < n; i++)); do
    mkdir -p "$repo/svc/$i"
    case $((i % 3)) in
      0) [ "$side" = base ] && img=postgres:16-bookworm || img=postgres:16-alpine3.20 ;;
      1) [ "$side" = base ] && img=postgres:15-bookworm || img=postgres:16-bookworm ;;
      2) [ "$side" = base ] && img=golang:1.22-bookworm || img=golang:1.23-bookworm ;;
    esac
    printf 'ARG EXTRA=%d\nFROM golang:1.22-bookworm AS build\nRUN go build ./...\n\nFROM %s\nCOPY --from=build /app /app\nLABEL n=%d\n' "$i" "$img" "$i" > "$repo/svc/$i/Dockerfile"
  done
}

git init -q -b main
gen base; git add -A; git commit -q -m base
gen head; git add -A; git commit -q -m head

echo "repository: $n Dockerfiles changed ($(git rev-list --count HEAD) commits)"
for run in 1 2 3; do
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -f "run $run: wall %e s, peak RSS %M KiB, exit %x" "$bin" check --repo "$repo" --base HEAD~1 --head HEAD --format json --quiet --output "$repo.json" 2>&1 | grep '^run' || true
  else
    start=$(date +%s.%N)
    "$bin" check --repo "$repo" --base HEAD~1 --head HEAD --format json --quiet --output "$repo.json" || true
    echo "run $run: wall $(echo "$(date +%s.%N) - $start" | bc) s (install GNU time for peak RSS)"
  fi
done
python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["summary"]; print("summary:", s)' "$repo.json" 2>/dev/null || true
rm -f "$repo.json"
