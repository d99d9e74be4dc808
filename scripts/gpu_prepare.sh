#!/usr/bin/env bash
# gpu_prepare.sh — fills .gpu_carry/ (git-ignored) with everything scripts/gpu_check.sh needs on a bare GPU
# machine that the repository does not hold, so that one device call with carry [".gpu_carry"] suffices.
#
# Usage: scripts/gpu_prepare.sh      (run here, on a machine with the build's packages and MNIST)
# Fills, under .gpu_carry/ (about 20 MB; checked to stay under 40 MiB, the device tool moves 64 MiB):
#   mnist/            the four MNIST files (.gz), from $CTNET_MNIST_DIR or data/mnist (scripts/fetch_mnist.sh)
#   pytorch_ref.py    the PyTorch reference, from $CTNET_PYTORCH_REF or ../shared/bench (../../shared/bench)
#   prefix/           build dependencies the GPU machine may lack, found by CMake only when the system has
#                     none (CTNET_FALLBACK_PREFIX, searched after the system's paths): Eigen 3.4 headers
#                     (include/eigen3/Eigen) with a minimal Eigen3Config.cmake; doctest.h with a minimal
#                     doctestConfig.cmake and doctest's test discovery scripts; zlib.h, zconf.h and a static
#                     libz.a (position independent: links into PIE binaries). OpenMP needs nothing: libgomp
#                     comes with g++.
#   MANIFEST          what was copied from where, and the sizes.
# Then, with the device tool: command `bash scripts/gpu_check.sh --require-gpu "$OUT"`, carry [".gpu_carry"],
# timeout_s 540 (scripts/gpu_check.sh says why).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$repo/.gpu_carry"
die() { echo "error: gpu_prepare.sh: $*" >&2; exit 1; }

[[ "$(uname -m)" == x86_64 ]] || die "this machine is $(uname -m); the GPU machine is x86-64 and libz.a must be too"

first_existing() { for p in "$@"; do [[ -e "$p" ]] && { echo "$p"; return 0; }; done; return 1; }

mnist_dir="${CTNET_MNIST_DIR:-$repo/data/mnist}"
pytorch_ref=$(first_existing "${CTNET_PYTORCH_REF:-/nonexistent}" "$repo/../shared/bench/pytorch_ref.py" \
  "$repo/../../shared/bench/pytorch_ref.py") || die "pytorch_ref.py not found (set CTNET_PYTORCH_REF)"
eigen=$(first_existing "${EIGEN3_INCLUDE_DIR:-/nonexistent}" /usr/include/eigen3 /usr/local/include/eigen3) ||
  die "Eigen 3.4 headers not found (Debian: libeigen3-dev; or set EIGEN3_INCLUDE_DIR)"
doctest_h=$(first_existing /usr/include/doctest/doctest.h /usr/local/include/doctest/doctest.h) ||
  die "doctest.h not found (Debian: doctest-dev)"
doctest_cmake=$(first_existing /usr/lib/cmake/doctest /usr/local/lib/cmake/doctest /usr/share/doctest/cmake) ||
  die "doctest's CMake scripts not found (Debian: doctest-dev)"
zlib_h=$(first_existing /usr/include/zlib.h /usr/local/include/zlib.h) || die "zlib.h not found (Debian: zlib1g-dev)"
libz=$(first_existing /usr/lib/x86_64-linux-gnu/libz.a /usr/lib64/libz.a /usr/lib/libz.a) ||
  die "libz.a not found (Debian: zlib1g-dev)"
grep -q '#define EIGEN_WORLD_VERSION 3' "$eigen/Eigen/src/Core/util/Macros.h" &&
  grep -q '#define EIGEN_MAJOR_VERSION 4' "$eigen/Eigen/src/Core/util/Macros.h" || die "$eigen is not Eigen 3.4"

rm -rf "$dest"
mkdir -p "$dest/mnist" "$dest/prefix/include/eigen3" "$dest/prefix/include/doctest" "$dest/prefix/lib/cmake/doctest" \
  "$dest/prefix/share/eigen3/cmake"

for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  if [[ -f "$mnist_dir/$f.gz" ]]; then
    cp "$mnist_dir/$f.gz" "$dest/mnist/"
  elif [[ -f "$mnist_dir/$f" ]]; then
    gzip -c "$mnist_dir/$f" > "$dest/mnist/$f.gz"
  else
    die "$mnist_dir/$f(.gz) missing (scripts/fetch_mnist.sh, or set CTNET_MNIST_DIR)"
  fi
done
cp "$pytorch_ref" "$dest/pytorch_ref.py"

cp -r "$eigen/Eigen" "$dest/prefix/include/eigen3/"
cat > "$dest/prefix/share/eigen3/cmake/Eigen3Config.cmake" <<'EOF'
# Eigen 3.4 carried by ctnet's scripts/gpu_prepare.sh (headers only): the target Eigen3::Eigen.
get_filename_component(_ctnet_eigen_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
if(NOT TARGET Eigen3::Eigen)
  add_library(Eigen3::Eigen INTERFACE IMPORTED)
  set_target_properties(Eigen3::Eigen PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${_ctnet_eigen_prefix}/include/eigen3")
endif()
set(EIGEN3_INCLUDE_DIR "${_ctnet_eigen_prefix}/include/eigen3")
EOF
cat > "$dest/prefix/share/eigen3/cmake/Eigen3ConfigVersion.cmake" <<'EOF'
set(PACKAGE_VERSION "3.4.0")
if(PACKAGE_FIND_VERSION VERSION_GREATER PACKAGE_VERSION OR NOT PACKAGE_FIND_VERSION_MAJOR EQUAL 3)
  set(PACKAGE_VERSION_COMPATIBLE FALSE)
else()
  set(PACKAGE_VERSION_COMPATIBLE TRUE)
  if(PACKAGE_FIND_VERSION STREQUAL PACKAGE_VERSION)
    set(PACKAGE_VERSION_EXACT TRUE)
  endif()
endif()
EOF

cp "$doctest_h" "$dest/prefix/include/doctest/"
cp "$doctest_cmake/doctest.cmake" "$doctest_cmake/doctestAddTests.cmake" "$dest/prefix/lib/cmake/doctest/"
doctest_version=$(for part in MAJOR MINOR PATCH; do sed -n "s/^#define DOCTEST_VERSION_$part \([0-9]*\)$/\1/p" "$doctest_h"; done | paste -sd.)
cat > "$dest/prefix/lib/cmake/doctest/doctestConfig.cmake" <<'EOF'
# doctest carried by ctnet's scripts/gpu_prepare.sh (header only): the target doctest::doctest and
# doctest.cmake (doctest_discover_tests) beside this file.
get_filename_component(_ctnet_doctest_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
if(NOT TARGET doctest::doctest)
  add_library(doctest::doctest INTERFACE IMPORTED)
  set_target_properties(doctest::doctest PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${_ctnet_doctest_prefix}/include")
endif()
list(APPEND CMAKE_MODULE_PATH "${CMAKE_CURRENT_LIST_DIR}")
EOF
cat > "$dest/prefix/lib/cmake/doctest/doctestConfigVersion.cmake" <<EOF
set(PACKAGE_VERSION "$doctest_version")
if(PACKAGE_FIND_VERSION VERSION_GREATER PACKAGE_VERSION)
  set(PACKAGE_VERSION_COMPATIBLE FALSE)
else()
  set(PACKAGE_VERSION_COMPATIBLE TRUE)
endif()
EOF

cp "$zlib_h" "$(dirname "$zlib_h")/zconf.h" "$dest/prefix/include/"
cp "$libz" "$dest/prefix/lib/libz.a"

bytes=$(du -sb "$dest" | cut -f1)
limit=$((40 * 1024 * 1024))
{
  echo "filled by scripts/gpu_prepare.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ) ($(uname -n))"
  echo "mnist          $mnist_dir"
  echo "pytorch_ref.py $pytorch_ref"
  echo "eigen          $eigen (3.4)"
  echo "doctest        $doctest_h $doctest_version, $doctest_cmake"
  echo "zlib           $zlib_h, $libz"
  echo "total          $bytes bytes"
  du -sh "$dest"/* | sed "s|$dest/||"
} > "$dest/MANIFEST"
cat "$dest/MANIFEST"
(( bytes < limit )) || die "$dest holds $bytes bytes, over the 40 MiB this script allows (the device tool moves 64 MiB in all)"
echo "gpu_prepare.sh: $dest ready; device call: command 'bash scripts/gpu_check.sh --require-gpu \"\$OUT\"', carry [\".gpu_carry\"], timeout_s 540"
