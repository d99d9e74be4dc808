# learnable_mnist.sh — sourced by test scripts: write_split DIR PREFIX COUNT writes a raw IDX split of
# generated 28x28 digits that a network can learn (a row bar, a column bar and sparse noise per class).
# Needs bash; no python, no MNIST.

# Appends to $out the bytes (0-255) given as arguments, as \x escapes for printf.
bytes() { local b h; for b; do printf -v h '\\x%02x' "$b"; out+=$h; done; }
be32() { bytes $(($1 >> 24 & 255)) $(($1 >> 16 & 255)) $(($1 >> 8 & 255)) $(($1 & 255)); }
# A 28x28 image of class k: a bright row bar, a column bar and sparse noise.
pattern() {
  local k=$1 r c v out=""
  for ((r = 0; r < 28; r++)); do
    for ((c = 0; c < 28; c++)); do
      v=0
      ((r == 4 + 2 * k && c >= 6 && c < 22)) && v=255
      ((c == 4 + 2 * (9 - k) && r >= 6 && r < 22)) && v=200
      (((r * 28 + c) % 13 == k)) && v=$(((r * 7 + c * 3 + k * 11) % 128))
      bytes $v
    done
  done
  printf "$out"
}
# write_split DIR PREFIX COUNT: PREFIX-images-idx3-ubyte and PREFIX-labels-idx1-ubyte, raw IDX.
write_split() {
  local dir=$1 prefix=$2 count=$3 i k out=""
  for ((k = 0; k < 10; k++)); do pattern $k >"$dir/.p$k"; done
  be32 2051; be32 "$count"; be32 28; be32 28
  { printf "$out"; for ((i = 0; i < count; i++)); do cat "$dir/.p$(((i * 7 + i / 10) % 10))"; done; } \
    >"$dir/$prefix-images-idx3-ubyte"
  out=""; be32 2049; be32 "$count"
  for ((i = 0; i < count; i++)); do bytes $(((i * 7 + i / 10) % 10)); done
  printf "$out" >"$dir/$prefix-labels-idx1-ubyte"
  rm -f "$dir"/.p?
}
# repeat_split SRC DST PREFIX COPIES: DST/PREFIX-* holds COPIES copies of SRC/PREFIX-* one after another
# (a larger split with epochs long enough to stop a run between two).
repeat_split() {
  local src=$1 dst=$2 prefix=$3 copies=$4 count i out=""
  count=$(($(stat -c %s "$src/$prefix-labels-idx1-ubyte") - 8))
  be32 2051; be32 $((count * copies)); be32 28; be32 28
  { printf "$out"; for ((i = 0; i < copies; i++)); do tail -c +17 "$src/$prefix-images-idx3-ubyte"; done; } \
    >"$dst/$prefix-images-idx3-ubyte"
  out=""; be32 2049; be32 $((count * copies))
  { printf "$out"; for ((i = 0; i < copies; i++)); do tail -c +9 "$src/$prefix-labels-idx1-ubyte"; done; } \
    >"$dst/$prefix-labels-idx1-ubyte"
}
# small_and_big_splits WORK COPIES: WORK/data holds 250 training and 60 test images; WORK/big the same test
# images and COPIES copies of the training ones.
small_and_big_splits() {
  mkdir -p "$1/data" "$1/big"
  write_split "$1/data" train 250
  write_split "$1/data" t10k 60
  repeat_split "$1/data" "$1/big" train "$2"
  cp "$1/data"/t10k-* "$1/big"
}
