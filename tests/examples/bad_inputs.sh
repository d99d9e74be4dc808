#!/usr/bin/env bash
# bad_inputs.sh — runs the example programs on bad inputs and checks the exit status AND the message.
#
#   bad_inputs.sh CASE      (CTest runs one CASE per test; see tests/examples/CMakeLists.txt)
#
# Needs: bash, coreutils; $CTNET_EXAMPLES_DIR holding the built example programs; $CTNET_FIXTURE_DIR for the
# cases that use a checkpoint trained by the `fixture_model` case. Every input is generated here (printf IDX
# files, PGM images, FIFOs) in a fresh temporary directory: nothing depends on data/mnist or on python.
# A failing run must print exactly one line on stderr, starting with "error: ", matching the expected regex.
set -uo pipefail

bin="${CTNET_EXAMPLES_DIR:?set CTNET_EXAMPLES_DIR to the directory of the example programs}"
fixture="${CTNET_FIXTURE_DIR:-}"
case_name="${1:?usage: bad_inputs.sh CASE}"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/ctnet_bad_inputs.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
export OMP_NUM_THREADS=1

fail() {
  echo "FAIL [$case_name]: $*" >&2
  exit 1
}

# --- generators -----------------------------------------------------------------------------------------
# One byte, given as a number 0-255.
byte() { printf "\\x$(printf %02x "$1")"; }
# A big-endian 32-bit integer.
be32() { byte $((($1 >> 24) & 255)); byte $((($1 >> 16) & 255)); byte $((($1 >> 8) & 255)); byte $(($1 & 255)); }
# idx FILE DIM...: an IDX file of unsigned bytes (type 0x08) with those dimensions, data a fixed pattern.
idx() {
  local file="$1"
  shift
  local n=1 d
  for d in "$@"; do n=$((n * d)); done
  {
    byte 0; byte 0; byte 8; byte $#
    for d in "$@"; do be32 "$d"; done
    head -c "$n" /dev/zero | tr '\0' '\100'
  } > "$file"
}
# labels FILE COUNT [BAD_INDEX BAD_VALUE]: COUNT labels i % 10, one of them replaced when asked.
labels() {
  local file="$1" count="$2" bad_index="${3:--1}" bad_value="${4:-0}" i
  {
    byte 0; byte 0; byte 8; byte 1
    be32 "$count"
    for ((i = 0; i < count; ++i)); do
      if ((i == bad_index)); then byte "$bad_value"; else byte $((i % 10)); fi
    done
  } > "$file"
}
# mnist DIR [TRAIN [TEST [ROWS [COLS]]]]: the four MNIST files, TRAIN and TEST images of ROWS x COLS.
mnist() {
  local dir="$1" train="${2:-64}" test="${3:-32}" rows="${4:-28}" cols="${5:-28}"
  mkdir -p "$dir"
  idx "$dir/train-images-idx3-ubyte" "$train" "$rows" "$cols"
  labels "$dir/train-labels-idx1-ubyte" "$train"
  idx "$dir/t10k-images-idx3-ubyte" "$test" "$rows" "$cols"
  labels "$dir/t10k-labels-idx1-ubyte" "$test"
}
# pgm FILE COLS ROWS: a binary PGM with a gradient.
pgm() {
  local file="$1" cols="$2" rows="$3" i
  {
    printf 'P5\n%d %d\n255\n' "$cols" "$rows"
    for ((i = 0; i < cols * rows; ++i)); do byte $(((i * 37) % 256)); done
  } > "$file"
}
# An empty safetensors file (8-byte length, "{}" padded): loads, holds no tensors.
empty_safetensors() { { byte 8; for _ in 1 2 3 4 5 6 7; do byte 0; done; printf '{}      '; } > "$1"; }

# --- the check ------------------------------------------------------------------------------------------
# expect RC REGEX PROGRAM ARGS...: runs the program; its exit status must be RC; when RC != 0, stderr must
# be exactly one line, starting with "error: " and matching REGEX (grep -E); when RC == 0, stdout must
# match REGEX.
expect() {
  local want_rc="$1" regex="$2" program="$3"
  shift 3
  [[ -x "$bin/$program" ]] || fail "$bin/$program is not built"
  timeout 120 "$bin/$program" "$@" > "$tmp/.out" 2> "$tmp/.err" < /dev/null
  local rc=$?
  echo "$program $* -> exit $rc"
  sed 's/^/  stderr: /' "$tmp/.err"
  ((rc == want_rc)) || { sed 's/^/  stdout: /' "$tmp/.out" | tail -5; fail "exit status $rc, expected $want_rc"; }
  if ((want_rc == 0)); then
    grep -Eq -- "$regex" "$tmp/.out" || { tail -5 "$tmp/.out"; fail "stdout does not match /$regex/"; }
  else
    [[ "$(wc -l < "$tmp/.err")" -eq 1 ]] || fail "stderr has $(wc -l < "$tmp/.err") lines, expected exactly one"
    grep -q '^error: ' "$tmp/.err" || fail "stderr does not start with 'error: '"
    grep -Eq -- "$regex" "$tmp/.err" || fail "stderr does not match /$regex/"
  fi
}

# Options that make a training run short.
quick=(--epochs 1 --batch 32 --threads 1 --progress off --csv -)
good="$tmp/good"
mnist "$good"
model="$tmp/empty.safetensors"
empty_safetensors "$model"
real_model="$fixture/step1.safetensors"
need_fixture() { [[ -n "$fixture" && -f "$real_model" ]] || fail "fixture model $real_model missing (run fixture_model)"; }

case "$case_name" in
  # A checkpoint for the mnist_predict cases (CTest fixture), trained on generated data in one epoch.
  fixture_model)
    [[ -n "$fixture" ]] || fail "CTNET_FIXTURE_DIR is not set"
    mkdir -p "$fixture" && rm -f "$fixture/step1.safetensors"
    expect 0 '"example":"mnist_step1_skeleton"' mnist_step1_skeleton --data "$good" "${quick[@]}" \
      --save "$fixture/step1.safetensors"
    [[ -f "$fixture/step1.safetensors" ]] || fail "no checkpoint written" ;;

  # ---- item 1: data that does not fit the network, and malformed data ----
  train_images_20x20)
    mnist "$tmp/d" 64 32 20 20
    expect 1 "train-images-idx3-ubyte': images are 1x20x20 \(400 values\), the network's input is 1x28x28 \(784\)" \
      mnist_step1_skeleton --data "$tmp/d" "${quick[@]}" ;;
  test_images_20x20)
    mnist "$tmp/d"
    idx "$tmp/d/t10k-images-idx3-ubyte" 32 20 20
    expect 1 "t10k-images-idx3-ubyte': images are 1x20x20 \(400 values\), the network's input is 1x28x28" \
      mnist_step3_gap --data "$tmp/d" "${quick[@]}" ;;
  images_28x20)
    mnist "$tmp/d" 64 32 28 20
    expect 1 "images are 1x28x20 \(560 values\), the network's input is 1x28x28" \
      mnist_session3 --data "$tmp/d" "${quick[@]}" ;;
  images_3_channels)
    mnist "$tmp/d"
    idx "$tmp/d/train-images-idx3-ubyte" 64 28 28 3
    expect 1 "train-images-idx3-ubyte': an image file must have rank 3 \(count x rows x cols\), found rank 4 \(64x28x28x3\)" \
      mnist_step2_bn_dropout --data "$tmp/d" "${quick[@]}" ;;
  count_mismatch)
    mnist "$tmp/d"
    labels "$tmp/d/train-labels-idx1-ubyte" 63
    expect 1 "train-images-idx3-ubyte' holds 64 images but '.*train-labels-idx1-ubyte' holds 63 labels" \
      mnist_step1_skeleton --data "$tmp/d" "${quick[@]}" ;;
  label_out_of_range)
    mnist "$tmp/d"
    labels "$tmp/d/t10k-labels-idx1-ubyte" 32 17 10
    expect 1 "t10k-labels-idx1-ubyte': label 17 is 10, outside 0\.\.9" mnist_step1_skeleton --data "$tmp/d" "${quick[@]}" ;;
  adder_images_20x20)
    mnist "$tmp/d" 64 32 20 20
    expect 1 "train-images-idx3-ubyte': images are 1x20x20 \(400 values\), the network's input is 1x28x28" \
      mnist_adder --data "$tmp/d" "${quick[@]}" ;;
  adder_label_out_of_range)
    mnist "$tmp/d"
    labels "$tmp/d/train-labels-idx1-ubyte" 64 3 200
    expect 1 "train-labels-idx1-ubyte': label 3 is 200, outside 0\.\.9" mnist_adder --data "$tmp/d" "${quick[@]}" ;;
  predict_test_20x20)
    mnist "$tmp/d" 64 32 20 20
    expect 1 "t10k-images-idx3-ubyte': images are 1x20x20 \(400 values\), the network's input is 1x28x28" \
      mnist_predict --model "$model" --test 5 --data "$tmp/d" ;;
  predict_test_more_than_file)
    expect 1 "--test 100: '.*t10k-images-idx3-ubyte' holds only 32 images" \
      mnist_predict --model "$model" --test 100 --data "$good" ;;
  bench_images_20x20)
    mnist "$tmp/d" 64 32 20 20
    expect 1 "images are 1x20x20 \(400 values\), the network's input is 1x28x28" ctnet_bench --data "$tmp/d" --reps 1 ;;
  bench_too_few_test_images)
    expect 1 "t10k-images-idx3-ubyte' holds 32 test images; ctnet_bench needs at least 1000" \
      ctnet_bench --data "$good" --reps 1 ;;
  bench_batch_above_train_set)
    mnist "$tmp/d" 64 1000
    expect 1 "--batch 128: '.*train-images-idx3-ubyte' holds only 64 training images" ctnet_bench --data "$tmp/d" --reps 1 ;;
  train_limit_above_file)
    expect 1 "--train-limit 100: '.*train-images-idx3-ubyte' holds only 64 images" \
      mnist_step1_skeleton --data "$good" "${quick[@]}" --train-limit 100 ;;
  tiny_good_run)  # the tiny model trains through the shared driver (its default scale augmentation too)
    expect 0 '"example":"mnist_tiny","parameters":3956,' mnist_tiny --data "$good" "${quick[@]}"
    expect 1 "--device cuda: (this binary was built without CUDA support|no usable CUDA device)" \
      mnist_tiny --data "$good" --epochs 1 --device cuda ;;
  scale_resume_changed)  # a state saved with --scale resumes only with the same scale
    expect 0 '"epochs":1' mnist_step1_skeleton --data "$good" "${quick[@]}" --scale 0.1 --save "$tmp/s.safetensors"
    expect 2 "--scale" mnist_step1_skeleton --data "$good" "${quick[@]}" --resume "$tmp/s.safetensors" ;;
  scale_out_of_range)
    expect 2 "--scale: 0.7 is out of range \[0.000000, 0.500000\]" mnist_step3_gap --data "$good" "${quick[@]}" --scale 0.7 ;;
  # ---- --validation: the last N training images stand in for the test set ----
  validation_above_train_set)
    expect 1 "--validation 64: '.*train-images-idx3-ubyte' holds only 64 images, and at least one must be left" \
      mnist_step1_skeleton --data "$good" "${quick[@]}" --validation 64 ;;
  validation_train_limit_above_rest)
    expect 1 "--train-limit 50: '.*train-images-idx3-ubyte' holds only 48 images besides the 16 that --validation holds out" \
      mnist_step3_gap --data "$good" "${quick[@]}" --validation 16 --train-limit 50 ;;
  validation_with_test_limit)
    expect 2 "--test-limit: does not apply with --validation" mnist_step1_skeleton --data "$good" "${quick[@]}" \
      --validation 16 --test-limit 8 ;;
  validation_zero)
    expect 2 "--validation" mnist_step1_skeleton --data "$good" "${quick[@]}" --validation 0 ;;
  validation_not_offered)  # the adder's two heads report differently: an unknown option there, said
    expect 2 "--validation" mnist_adder --data "$good" "${quick[@]}" --validation 16 ;;
  validation_good)  # evaluates on the 16 held-out training images, names them so, and never reads the test set
    head -c 100 "$good/t10k-images-idx3-ubyte" > "$tmp/t10k" && mv "$tmp/t10k" "$good/t10k-images-idx3-ubyte"
    expect 1 "t10k-images-idx3-ubyte': truncated" mnist_step1_skeleton --data "$good" "${quick[@]}"
    expect 0 '"validation":16,"validation_accuracy":\[[0-9.]+\],"best"' mnist_step1_skeleton --data "$good" \
      --epochs 1 --batch 32 --threads 1 --progress off --csv "$tmp/log.csv" --validation 16
    grep -q "^data: 48 training and 16 validation images (the last of the training file)" "$tmp/.out" ||
      fail "the data line does not count 48 training and 16 validation images"
    grep -q "epoch 1/1  train loss .* val loss .* acc .* (.*/16)" "$tmp/.out" || fail "the epoch line does not say val"
    grep -q "^best validation accuracy" "$tmp/.out" || fail "the summary does not say validation"
    [[ "$(head -1 "$tmp/log.csv")" == epoch,train_loss,train_accuracy,validation_loss,validation_accuracy,validation_correct,validation_total,lr,seconds ]] ||
      fail "CSV header: $(head -1 "$tmp/log.csv")" ;;
  validation_resume_changed)  # a state saved with --validation resumes only with the same N
    expect 0 '"validation":16' mnist_step1_skeleton --data "$good" "${quick[@]}" --validation 16 \
      --save "$tmp/s.safetensors"
    expect 2 "--validation" mnist_step1_skeleton --data "$good" "${quick[@]}" --validation 8 \
      --resume "$tmp/s.safetensors" ;;
  empty_images_file)
    mnist "$tmp/d"
    : > "$tmp/d/train-images-idx3-ubyte"
    expect 1 "train-images-idx3-ubyte': file too short for an IDX header \(0 bytes\)" \
      mnist_step1_skeleton --data "$tmp/d" "${quick[@]}" ;;
  truncated_images_file)
    mnist "$tmp/d"
    head -c 1000 "$good/train-images-idx3-ubyte" > "$tmp/d/train-images-idx3-ubyte"
    expect 1 "train-images-idx3-ubyte': truncated: dimensions 64x28x28 need 50176 data bytes, found 984" \
      mnist_step1_skeleton --data "$tmp/d" "${quick[@]}" ;;
  wrong_magic)
    mnist "$tmp/d"
    { printf 'GIF8'; tail -c +5 "$good/train-images-idx3-ubyte"; } > "$tmp/d/train-images-idx3-ubyte"
    expect 1 "train-images-idx3-ubyte': wrong magic number: found 47 49 46 38" \
      mnist_step1_skeleton --data "$tmp/d" "${quick[@]}" ;;
  labels_given_as_images)
    mnist "$tmp/d"
    cp "$good/train-labels-idx1-ubyte" "$tmp/d/train-images-idx3-ubyte"
    expect 1 "train-images-idx3-ubyte': an image file must have rank 3 \(count x rows x cols\), found rank 1 \(64\)" \
      mnist_step1_skeleton --data "$tmp/d" "${quick[@]}" ;;
  missing_data_dir)
    expect 1 "IDX file '$tmp/nowhere/train-images-idx3-ubyte' not found.*fetch_mnist\.sh" \
      mnist_step1_skeleton --data "$tmp/nowhere" "${quick[@]}" ;;
  images_file_is_directory)
    mnist "$tmp/d"
    rm "$tmp/d/train-images-idx3-ubyte" && mkdir "$tmp/d/train-images-idx3-ubyte"
    expect 1 "train-images-idx3-ubyte' is a directory, not an IDX file" mnist_step1_skeleton --data "$tmp/d" "${quick[@]}" ;;
  unreadable_images_file)
    if [[ "$(id -u)" == 0 ]]; then echo "skipped: root reads files whatever their mode"; exit 77; fi
    mnist "$tmp/d"
    chmod 000 "$tmp/d/train-images-idx3-ubyte"
    expect 1 "train-images-idx3-ubyte'" mnist_step1_skeleton --data "$tmp/d" "${quick[@]}" ;;

  # ---- item 3: no uncaught exception, no ignored option, output paths checked first ----
  predict_directory_as_image)
    mkdir "$tmp/pic.png"
    expect 1 "'$tmp/pic.png' is a directory, not an image file" mnist_predict --model "$model" "$tmp/pic.png" ;;
  predict_missing_image)
    expect 1 "image file '$tmp/none.png' not found" mnist_predict --model "$model" "$tmp/none.png" ;;
  predict_fifo_as_image)
    mkfifo "$tmp/pipe.pgm"
    expect 1 "'$tmp/pipe.pgm' is not a regular file" mnist_predict --model "$model" "$tmp/pipe.pgm" ;;
  predict_garbage_image)
    need_fixture
    head -c 100 /dev/zero > "$tmp/zero.png"
    expect 1 "zero\.png" mnist_predict --model "$real_model" "$tmp/zero.png" ;;
  predict_empty_image)
    need_fixture
    : > "$tmp/empty.pgm"
    expect 1 "empty\.pgm" mnist_predict --model "$real_model" "$tmp/empty.pgm" ;;
  predict_truncated_pgm)
    need_fixture
    pgm "$tmp/full.pgm" 28 28
    head -c 100 "$tmp/full.pgm" > "$tmp/cut.pgm"
    expect 1 "cut\.pgm" mnist_predict --model "$real_model" "$tmp/cut.pgm" ;;
  predict_odd_image_sizes)  # any size is resized to 28x28: these are classified, not rejected
    need_fixture
    pgm "$tmp/one.pgm" 1 1
    pgm "$tmp/wide.pgm" 300 2
    pgm "$tmp/tall.pgm" 3 97
    expect 0 "tall\.pgm.*: [0-9] \(probability" mnist_predict --model "$real_model" "$tmp/one.pgm" "$tmp/wide.pgm" \
      "$tmp/tall.pgm" ;;
  predict_test_good)
    need_fixture
    expect 0 "^5 of 5 correct|^[0-5] of 5 correct" mnist_predict --model "$real_model" --test 5 --data "$good" ;;
  predict_garbage_model)
    head -c 64 /dev/urandom > "$tmp/junk.safetensors"
    pgm "$tmp/d.pgm" 28 28
    expect 1 "safetensors file '$tmp/junk\.safetensors'" mnist_predict --model "$tmp/junk.safetensors" "$tmp/d.pgm" ;;
  # A safetensors file without ctnet's metadata is a plain state_dict: loaded by name and shape, every
  # mismatch named (here all 27 tensors of the flagship, the network mnist_predict falls back to).
  predict_state_dict_mismatch)
    expect 1 "empty\.safetensors' does not fit this network by name and shape \(27 mismatches\): missing tensors: 0\.weight \[8, 1, 3, 3\], 1\.weight \[8\], 1\.bias \[8\], 4\.weight \[16, 8, 3, 3\],.* 19\.running_var \[16\]$" \
      mnist_predict --model "$model" --test 1 --data "$good" ;;
  predict_model_is_directory)
    mkdir "$tmp/m.safetensors"
    pgm "$tmp/d.pgm" 28 28
    expect 1 "m\.safetensors" mnist_predict --model "$tmp/m.safetensors" "$tmp/d.pgm" ;;
  predict_data_without_test)
    pgm "$tmp/d.pgm" 28 28
    expect 2 "--data: does not apply without --test" mnist_predict --model "$model" --data "$good" "$tmp/d.pgm" ;;
  predict_invert_without_images)
    expect 2 "--invert: does not apply without image files" mnist_predict --model "$model" --test 3 --invert yes ;;
  predict_no_model)
    expect 2 "--model PATH is required" mnist_predict --test 3 ;;
  predict_test_zero)
    expect 2 "--test: 0 is out of range \[1, 10000\]" mnist_predict --model "$model" --test 0 ;;
  seed_max_uint64)  # inside the documented range: trains and writes the seed exactly in its JSON line
    expect 0 '"seed":18446744073709551615,' mnist_step1_skeleton --data "$good" "${quick[@]}" \
      --seed 18446744073709551615 ;;
  seed_above_2_53)
    expect 0 '"seed":9007199254740993,' mnist_adder --data "$good" "${quick[@]}" --seed 9007199254740993 ;;
  seed_above_uint64)
    expect 2 "--seed: 18446744073709551616 is out of range \[0, 18446744073709551615\]" \
      mnist_step1_skeleton --data "$good" "${quick[@]}" --seed 18446744073709551616 ;;
  seed_negative)
    expect 2 "--seed: '-1' is not a valid integer" mnist_step1_skeleton --data "$good" "${quick[@]}" --seed -1 ;;
  adder_schedule_step)  # used to print OneCycleLR and train with it
    expect 0 "StepLR lr 0\.1" mnist_adder --data "$good" "${quick[@]}" --schedule step ;;
  cuda_graph_on_cpu)
    expect 2 "--cuda-graph: applies only with --device cuda" mnist_step3_gap --data "$good" "${quick[@]}" \
      --cuda-graph off ;;
  threads_with_cuda)
    expect 2 "--threads: does not apply with --device cuda" mnist_step3_gap --data "$good" --epochs 1 --device cuda \
      --threads 2 ;;
  bench_cuda_option_on_cpu)
    expect 2 "--target: does not apply with --device cpu" ctnet_bench --data "$good" --target 99 ;;
  bench_epochs_on_cpu)
    expect 2 "--epochs: does not apply with --device cpu" ctnet_bench --data "$good" --epochs 3 ;;
  bench_steps_with_only_infer)
    expect 2 "--steps: does not apply with --only infer" ctnet_bench --data "$good" --only infer --steps 5 ;;
  bench_reps_with_only_latency)
    expect 2 "--reps: does not apply with --only latency_b1" ctnet_bench --data "$good" --only latency_b1 --reps 2 ;;
  bench_compete_with_cuda)
    expect 2 "--compete: does not apply with --device cuda" ctnet_bench --device cuda --compete 1 ;;
  bench_compete_runs)  # the competing processes run during the benchmark and are gone after it
    mnist "$tmp/big" 200 1000
    expect 0 '"competing_processes":1' ctnet_bench --data "$tmp/big" --only train --steps 2 --reps 1 --batch 32 \
      --threads 1 --compete 1
    sleep 0.2
    if pgrep -f "$bin/ctnet_bench" > /dev/null; then fail "a competing process outlived ctnet_bench"; fi ;;
  bench_per_layer_with_cuda)
    expect 2 "--per-layer: does not apply with --device cuda" ctnet_bench --device cuda --per-layer ;;
  bench_target_without_time_to_accuracy)
    expect 2 "--target: does not apply with --time-to-accuracy off" ctnet_bench --device cuda --time-to-accuracy off \
      --target 99 ;;
  duplicate_option)
    expect 2 "--epochs: given twice" mnist_step1_skeleton --data "$good" --epochs 1 --epochs 2 ;;
  epochs_zero)
    expect 2 "--epochs: 0 is out of range \[1, 1000\]" mnist_step1_skeleton --data "$good" --epochs 0 ;;
  batch_negative)
    expect 2 "--batch: -5 is out of range \[1, 4096\]" mnist_step1_skeleton --data "$good" --batch -5 ;;
  lr_garbage)
    expect 2 "--lr: '0\.1x' is not a valid number" mnist_step1_skeleton --data "$good" --lr 0.1x ;;
  missing_value)
    expect 2 "--save: missing value \(PATH\)" mnist_step1_skeleton --data "$good" --save ;;
  unknown_option)
    expect 2 "unknown option '--epoch' \(see mnist_step1_skeleton --help\)" mnist_step1_skeleton --epoch 1 ;;
  summaries_argument)
    expect 2 "unknown option 'extra' \(see mnist_summaries --help\)" mnist_summaries extra ;;
  save_directory)  # a bad --save is refused before the data are read (here they do not even exist)
    mkdir "$tmp/saved"
    expect 2 "--save: '$tmp/saved' is a directory, not a file" mnist_step1_skeleton --data "$tmp/nowhere" "${quick[@]}" \
      --save "$tmp/saved" ;;
  save_missing_directory)
    expect 2 "--save: directory '$tmp/no/such' \(of '$tmp/no/such/m\.safetensors'\) does not exist" \
      mnist_step1_skeleton --data "$tmp/nowhere" "${quick[@]}" --save "$tmp/no/such/m.safetensors" ;;
  save_fifo)
    mkfifo "$tmp/fifo"
    expect 2 "--save: '$tmp/fifo' exists and is not a regular file \(a device, FIFO or socket\); refusing to replace it" \
      mnist_step1_skeleton --data "$good" "${quick[@]}" --save "$tmp/fifo"
    [[ -p "$tmp/fifo" ]] || fail "the FIFO was replaced" ;;
  save_device)
    expect 2 "--save: '/dev/null' exists and is not a regular file" mnist_adder --data "$good" "${quick[@]}" \
      --save /dev/null
    [[ -c /dev/null ]] || fail "/dev/null is no longer a character device" ;;
  save_symlink)
    : > "$tmp/target.safetensors"
    ln -s "$tmp/target.safetensors" "$tmp/link.safetensors"
    expect 2 "--save: '$tmp/link\.safetensors' is a symbolic link to '$tmp/target\.safetensors'" \
      mnist_step1_skeleton --data "$good" "${quick[@]}" --save "$tmp/link.safetensors"
    [[ -L "$tmp/link.safetensors" ]] || fail "the link was replaced" ;;
  save_unwritable_directory)
    if [[ "$(id -u)" == 0 ]]; then echo "skipped: root writes in any directory"; exit 77; fi
    mkdir "$tmp/ro" && chmod 555 "$tmp/ro"
    expect 2 "--save: cannot write in directory '$tmp/ro'" mnist_step1_skeleton --data "$good" "${quick[@]}" \
      --save "$tmp/ro/m.safetensors" ;;
  csv_directory)
    mkdir "$tmp/log.csv"
    expect 2 "--csv: '$tmp/log\.csv' is a directory, not a file" mnist_adder --data "$tmp/nowhere" --csv "$tmp/log.csv" ;;
  csv_fifo)
    mkfifo "$tmp/log.csv"
    expect 2 "--csv: '$tmp/log\.csv' exists and is not a regular file" mnist_step1_skeleton --data "$good" \
      --epochs 1 --csv "$tmp/log.csv"
    [[ -p "$tmp/log.csv" ]] || fail "the FIFO was replaced" ;;
  save_same_as_csv)
    expect 2 "--save and --csv both name '$tmp/x'" mnist_step1_skeleton --data "$good" --save "$tmp/x" --csv "$tmp/x" ;;
  device_cuda_unavailable)  # a CPU-only build (or no GPU): one line, exit 1
    expect 1 "--device cuda: (this binary was built without CUDA support|no usable CUDA device)" \
      mnist_step1_skeleton --data "$good" --epochs 1 --device cuda ;;
  device_cuda_module_missing)  # a binary copied without its CUDA part: one line naming the module, exit 1
    mkdir "$tmp/copy" && cp "$bin/mnist_step3_gap" "$tmp/copy/"
    if [[ "${CTNET_CUDA_EXAMPLES:-0}" == 1 ]]; then
      bin="$tmp/copy" expect 1 "--device cuda: cannot load this program's CUDA part '$tmp/copy/mnist_step3_gap_cuda\.so'" \
        mnist_step3_gap --data "$good" --epochs 1 --device cuda
    else
      bin="$tmp/copy" expect 1 "--device cuda: this binary was built without CUDA support" \
        mnist_step3_gap --data "$good" --epochs 1 --device cuda
    fi
    # ... and its CPU path does not need it: the CUDA runtime and cuBLAS are never linked into the binary.
    if readelf -d "$bin/ctnet_bench" | grep -E 'NEEDED.*(cudart|cublas)'; then fail "ctnet_bench links CUDA"; fi
    bin="$tmp/copy" expect 0 '"example":"mnist_step3_gap"' mnist_step3_gap --data "$good" "${quick[@]}" ;;
  good_run_saves)  # the control: good data and paths train, log and save
    expect 0 '"example":"mnist_step1_skeleton"' mnist_step1_skeleton --data "$good" --epochs 1 --batch 32 --threads 1 \
      --progress off --csv "$tmp/log.csv" --save "$tmp/m.safetensors"
    [[ -f "$tmp/m.safetensors" && -f "$tmp/log.csv" ]] || fail "checkpoint or CSV missing"
    [[ "$(wc -l < "$tmp/log.csv")" -eq 2 ]] || fail "the CSV should hold a header and one epoch" ;;
  # ---- --export-onnx (issue 13): refused where it cannot be honoured, and written where it can ----
  export_onnx_directory)
    mkdir "$tmp/m.onnx"
    expect 2 "--export-onnx: '$tmp/m\.onnx' is a directory, not a file" mnist_step1_skeleton --data "$good" \
      "${quick[@]}" --export-onnx "$tmp/m.onnx" ;;
  export_onnx_same_as_save)
    expect 2 "--export-onnx and --save both name '$tmp/x'" mnist_step3_gap --data "$good" "${quick[@]}" \
      --save "$tmp/x" --export-onnx "$tmp/x" ;;
  export_onnx_with_cuda)
    expect 2 "--export-onnx: applies only with --device cpu" mnist_step3_gap --data "$good" --epochs 1 \
      --device cuda --export-onnx "$tmp/m.onnx" ;;
  adder_cuda_refusals)  # the GPU adder trains with OneCycleLR and cannot resume: said, not ignored
    expect 2 "--threads: does not apply with --device cuda" mnist_adder --data "$good" --device cuda --threads 2
    expect 2 "--schedule step: mnist_adder --device cuda trains with onecycle only" mnist_adder --data "$good" \
      --device cuda --schedule step
    expect 2 "--resume: --device cuda cannot resume" mnist_adder --data "$good" --device cuda --resume "$tmp/x" ;;
  export_onnx_good)  # each kind of program writes a model the ONNX checker accepts, with the names it gives
    [[ "${CTNET_HAVE_ONNX:-0}" == 1 ]] || { echo "skipped: this build has no ctnet::onnx"; exit 77; }
    need_fixture
    expect 0 "exported $tmp/s1\.onnx" mnist_step1_skeleton --data "$good" "${quick[@]}" --export-onnx "$tmp/s1.onnx"
    expect 0 "exported $tmp/adder\.onnx" mnist_adder --data "$good" "${quick[@]}" --export-onnx "$tmp/adder.onnx"
    expect 0 "exported $tmp/p\.onnx" mnist_predict --model "$real_model" --export-onnx "$tmp/p.onnx"
    # The fixture was trained with these very options: its checkpoint, exported by mnist_predict, must give
    # the same bytes as the model exported at the end of training.
    cmp -s "$tmp/p.onnx" "$tmp/s1.onnx" || fail "mnist_predict's export of the checkpoint differs from the trained model's"
    if /usr/bin/python3 -c "import onnx" 2> /dev/null; then
      for f in s1 adder p; do
        names=$(/usr/bin/python3 -c "import onnx, sys
m = onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True)
print(','.join(v.name for v in m.graph.input) + ':' + ','.join(v.name for v in m.graph.output))" "$tmp/$f.onnx") ||
          fail "onnx.checker refused $f.onnx"
        echo "  $f.onnx: checker ok, inputs:outputs $names"
        if [[ $f == adder ]]; then want="image,number:digit,sum"; else want="input:output"; fi
        [[ "$names" == "$want" ]] || fail "$f.onnx has $names, expected $want"
      done
    else
      echo "note: python3-onnx is not installed; only the files' presence was checked"
      [[ -s "$tmp/s1.onnx" && -s "$tmp/adder.onnx" && -s "$tmp/p.onnx" ]] || fail "an exported file is missing"
    fi ;;
  *)
    fail "unknown case" ;;
esac
echo "ok [$case_name]"
