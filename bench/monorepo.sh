#!/usr/bin/env bash
# Measures `breakwater check` on a generated monorepo whose PR touches N
# mixed files (default 5000): Dockerfiles, compose files, Kubernetes
# manifests, Helm values and Terraform modules, a fifth each. Prints the
# median wall time and peak RSS over RUNS runs (default 5).
# Target (issue 4): under 2 s and under 300 MB on a 2-core machine.
set -euo pipefail
bin=${1:?usage: monorepo.sh BINARY [N] [RUNS]}
n=${2:-5000}
runs=${3:-5}
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
repo=$(mktemp -d "${TMPDIR:-/tmp}/breakwater-mono.XXXXXX")
trap 'rm -rf "$repo" "$repo.times"' EXIT
git() { command git -C "$repo" -c user.name=bench -c user.email=bench@example.invalid -c commit.gpgsign=false "$@"; }

gen() { # gen SIDE: base uses Postgres 15 on bookworm; head moves a third of
        # the services to 16, a third to Alpine, and touches the rest.
  local side=$1 i dir tag pg
  for ((i = 0; i < n; i++)); do
    dir="$repo/services/s$((i / 5))"
    mkdir -p "$dir/k8s" "$dir/chart" "$dir/infra"
    if [ "$side" = base ]; then tag=15.8-bookworm; pg=15.8
    else case $((i % 3)) in 0) tag=16.4-bookworm; pg=16.4 ;; 1) tag=15.8-alpine3.20; pg=15.8 ;; *) tag=15.8-bookworm; pg=15.8 ;; esac
    fi
    case $((i % 5)) in
      0) printf 'FROM golang:1.22-bookworm AS build\nRUN go build ./...\n\nFROM postgres:%s\nLABEL side=%s n=%d\n' "$tag" "$side" "$i" > "$dir/Dockerfile" ;;
      1) printf 'services:\n  db:\n    image: postgres:%s\n    environment:\n      POSTGRES_DB: s%d\n  app:\n    image: acme/app:%s\n' "$tag" "$i" "$side" > "$dir/compose.yml" ;;
      2) printf 'apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db-%d\n  labels: {side: %s}\nspec:\n  serviceName: db\n  replicas: 1\n  template:\n    spec:\n      containers:\n        - name: postgres\n          image: postgres:%s\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: db-%d\n' "$i" "$side" "$tag" "$i" > "$dir/k8s/db.yaml" ;;
      3) printf 'replicaCount: 1\nlabel: %s\npostgresql:\n  image:\n    registry: docker.io\n    repository: postgres\n    tag: %s\n' "$side" "$tag" > "$dir/chart/values.yaml" ;;
      4) printf 'variable "pg" {\n  default = "%s"\n}\n\nresource "aws_db_instance" "db" {\n  identifier     = "s%d-%s"\n  engine         = "postgres"\n  engine_version = var.pg\n}\n' "$pg" "$i" "$side" > "$dir/infra/main.tf" ;;
    esac
  done
}

git init -q -b main
gen base; git add -A; git commit -q -m base
gen head; git add -A; git commit -q -m head
echo "repository: $(git diff --name-only HEAD~1 HEAD | wc -l) files changed, $(git ls-files | wc -l) files in all"

for ((r = 1; r <= runs; r++)); do
  /usr/bin/time -f "%e %M" -o "$repo.times" -a "$bin" check --repo "$repo" --base HEAD~1 --head HEAD --format json --quiet --output "$repo/../$(basename "$repo").json" >/dev/null 2>&1 || true
done
grep -E '^[0-9.]+ [0-9]+$' "$repo.times" | sort -n -k1 | awk -v runs="$runs" '
  { wall[NR] = $1; rss[NR] = $2; if ($2 > peak) peak = $2; print "run: wall " $1 " s, peak RSS " int($2 / 1024) " MiB" }
  END { printf "median wall %.2f s over %d runs; peak RSS %d MiB (max over runs)\n", wall[int((NR + 1) / 2)], runs, peak / 1024 }'
python3 -c 'import json,sys; print("summary:", json.load(open(sys.argv[1]))["summary"])' "$repo/../$(basename "$repo").json" 2>/dev/null || true
rm -f "$repo/../$(basename "$repo").json"
