#!/usr/bin/env bash
# Runs `breakwater check` on every case of testdata/adversarial (content a
# fork's pull request can carry: a 50 MB Dockerfile, alias bombs, 100,000
# services, symlinks out of the repository, hostile file names, NUL bytes,
# migrations that sleep, loop or run programs) and prints one table row a
# case: the outcome (finding IDs, or the error), exit code, peak RSS,
# wall time, and what the run left in its private TMPDIR.
#
# The repositories come from the test's own generator:
#   go test ./internal/cli -run '^TestAdversarial$' -args -keep DIR
# Each case gets --statement-timeout and the other flags its expect.txt
# names, and a deadline of $DEADLINE seconds (default 120).
# Usage: bench/adversarial.sh [BINARY]   (default: build ./cmd/breakwater)
set -euo pipefail
cd "$(dirname "$0")/.."
deadline=${DEADLINE:-120}
work=$(mktemp -d "${TMPDIR:-/tmp}/breakwater-adversarial.XXXXXX")
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"

bin=${1:-}
if [ -z "$bin" ]; then
  bin=$work/breakwater
  go build -o "$bin" ./cmd/breakwater
fi
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
[ -x /usr/bin/time ] || { echo "adversarial.sh: needs GNU time at /usr/bin/time" >&2; exit 2; }

go test ./internal/cli -run '^TestAdversarial$' -count=1 -args -keep "$work/cases" >/dev/null

printf '| case | outcome | exit | peak RSS | wall | left behind |\n'
printf '| --- | --- | ---: | ---: | ---: | --- |\n'
for dir in "$work"/cases/*; do
  name=$(basename "$dir")
  mapfile -t args < "$dir/args"
  # Short, so the server's socket path under it fits in 108 bytes.
  tmp=$(mktemp -d /tmp/bwa.XXXXXX)
  chmod 755 "$tmp"
  code=0
  TMPDIR=$tmp /usr/bin/time -f "%e %M" -o "$dir/time" \
    timeout -k 5 "$deadline" "$bin" check --repo "$dir/repo" "${args[@]}" --format json --quiet \
    >"$dir/out.json" 2>"$dir/err.txt" || code=$?
  read -r wall rss < <(tail -n 1 "$dir/time")
  if [ "$code" = 124 ] || [ "$code" = 137 ]; then
    outcome="killed after ${deadline}s"
  elif [ "$code" = 2 ]; then
    outcome="error: $(grep -v '^Command exited' "$dir/err.txt" | head -n 1 | cut -c1-160)"
  else
    outcome=$(jq -r '[.findings[] | "\(.rule) \(.file | @json):\(.line)"] | if length == 0 then "no findings" else join("; ") end' "$dir/out.json" |
      sed 's/\xe2\x80\xae/\\u202e/g')
  fi
  if grep -q 'panic:' "$dir/err.txt"; then outcome="PANIC; $outcome"; fi
  if [ -n "$(ls -A "$dir/marker")" ]; then
    outcome="$outcome; PROGRAM RAN: $(find "$dir/marker" -mindepth 1 -printf "%f ")wrote $(head -c 80 "$dir"/marker/* | tr '\n' ' ')"
  fi
  left=$(ls -A "$tmp")
  left=${left:-nothing}
  rm -rf "$tmp"
  outcome=${outcome//|/\\|}
  printf '| %s | %s | %s | %d MiB | %s s | %s |\n' "$name" "$outcome" "$code" $(((rss + 1023) / 1024)) "$wall" "${left//$'\n'/ }"
done
