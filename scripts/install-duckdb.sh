#!/usr/bin/env bash
# DuckDB 1.4.4 from the npm registry (Debian 12 does not package it), as DESIGN.md says:
#   libduckdb.so from @duckdb/node-bindings-linux-x64@1.4.4-r.4
#   duckdb.h     from duckdb@1.4.4 (the same release's source tree)
# Result: third_party/duckdb/{lib/libduckdb.so,include/duckdb.h}. Pinned by sha512; idempotent.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest="$root/third_party/duckdb"
stamp="$dest/INSTALLED"
want="duckdb 1.4.4 (node-bindings 1.4.4-r.4)"

if [[ -f $stamp && $(cat "$stamp") == "$want" && -f $dest/lib/libduckdb.so && -f $dest/include/duckdb.h ]]; then
  exit 0
fi

lib_pkg="@duckdb/node-bindings-linux-x64@1.4.4-r.4"
lib_tgz="duckdb-node-bindings-linux-x64-1.4.4-r.4.tgz"
lib_sha512=8c14cbfd6bdfc312d3a056bfa551df4fa7a532d96d2469dcdf04aec590fd39f325b62b7d614755152dfbbc1150cd7313d59f0e5a3b528cc87eccf2b13b01cb1c
hdr_pkg="duckdb@1.4.4"
hdr_tgz="duckdb-1.4.4.tgz"
hdr_sha512=844249e61c9517454b8f776638ba6c5ab411d1bddde1892ab72826ea25178c72430e74aa83f5122b171be6abcdace84560f824b5ac94e9d5c2b603ea7269a9a2

if [[ $(uname -m) != x86_64 ]]; then
  echo "setup: the npm DuckDB build used here is linux-x64 only; on $(uname -m) install DuckDB 1.4.4" \
    "yourself and configure with -DDUCKDB_ROOT=<prefix with include/duckdb.h and lib/libduckdb.so>" >&2
  exit 1
fi

echo "setup: fetching DuckDB 1.4.4 from the npm registry"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if command -v npm >/dev/null 2>&1; then
  (cd "$work" && npm pack --silent "$lib_pkg" "$hdr_pkg" >/dev/null)
else
  # No npm (a container build stage): the same tarballs straight from the registry.
  registry=https://registry.npmjs.org
  curl -fsSL -o "$work/$lib_tgz" "$registry/@duckdb/node-bindings-linux-x64/-/node-bindings-linux-x64-1.4.4-r.4.tgz"
  curl -fsSL -o "$work/$hdr_tgz" "$registry/duckdb/-/duckdb-1.4.4.tgz"
fi

check() { # file expected-sha512-hex
  local got
  got=$(sha512sum "$work/$1" | cut -d' ' -f1)
  if [[ $got != "$2" ]]; then
    echo "setup: $1 does not match its pinned sha512 (got $got)" >&2
    exit 1
  fi
}
check "$lib_tgz" "$lib_sha512"
check "$hdr_tgz" "$hdr_sha512"

mkdir -p "$work/x"
tar xzf "$work/$lib_tgz" -C "$work/x" package/libduckdb.so package/LICENSE
tar xzf "$work/$hdr_tgz" -C "$work/x" package/src/duckdb/src/include/duckdb.h

rm -rf "$dest"
mkdir -p "$dest/lib" "$dest/include"
mv "$work/x/package/libduckdb.so" "$dest/lib/"
mv "$work/x/package/LICENSE" "$dest/LICENSE"
mv "$work/x/package/src/duckdb/src/include/duckdb.h" "$dest/include/"
echo "$want" >"$stamp"
echo "setup: DuckDB installed in third_party/duckdb"
