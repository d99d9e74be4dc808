#!/usr/bin/env bash
# Every header with cold bodies (CTNET_COLD_BODIES, include/ctnet/core/compiled.hpp) is read by the compiled
# library's source, and every examples/common header with CTNET_EXAMPLES_COLD_BODIES by examples_common.cpp:
# a header left out would compile in header-only mode and fail to link only in programs that use it.
# Then the check itself is shown to fail on a library source with one header left out.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

check() {  # check LIBRARY_SOURCE EXAMPLES_SOURCE: prints what is missing, fails if anything is
  local lib="$1" ex="$2" missing=0 f rel
  while IFS= read -r f; do
    rel="${f#"$root"/include/}"
    [ "$rel" = ctnet/core/compiled.hpp ] && continue
    if ! grep -qxF "#include <$rel>" "$lib"; then
      echo "missing from $(basename "$lib"): #include <$rel>"
      missing=1
    fi
  done < <(grep -rl 'CTNET_COLD_BODIES' "$root/include/ctnet" | sort)
  while IFS= read -r f; do
    rel="$(basename "$f")"
    [ "$rel" = compiled.hpp ] && continue
    if ! grep -qxF "#include \"$rel\"" "$ex"; then
      echo "missing from $(basename "$ex"): #include \"$rel\""
      missing=1
    fi
  done < <(grep -l 'CTNET_EXAMPLES_COLD_BODIES' "$root"/examples/common/*.hpp | sort)
  return $missing
}

check "$root/src/compiled/ctnet_compiled.cpp" "$root/examples/common/examples_common.cpp"
echo "compiled lists: complete"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
grep -vxF '#include <ctnet/data/idx.hpp>' "$root/src/compiled/ctnet_compiled.cpp" > "$tmp/lib.cpp"
if out="$(check "$tmp/lib.cpp" "$root/examples/common/examples_common.cpp")"; then
  echo "FAIL: the check passed a library source without ctnet/data/idx.hpp"
  exit 1
fi
[ "$out" = "missing from lib.cpp: #include <ctnet/data/idx.hpp>" ] || { echo "FAIL: unexpected message: $out"; exit 1; }
echo "self-test: a left-out header is reported ($out)"
