// ctnet/data/loader.hpp — mini-batches over an in-memory Dataset, prepared on a background thread.
//
// Requires: the Dataset outlives the DataLoader and is not modified while it exists; start_epoch is called
// before next. One thread uses a DataLoader (it is not itself thread-safe); link with -pthread.
// Guarantees: each epoch visits every sample exactly once (the last partial batch included unless
// drop_last), in the order of a Fisher-Yates permutation drawn from Generator(seed, RngStream::shuffle,
// epoch) — or in dataset order without shuffle. Images come as N x 1 x rows x cols floats, byte / 255,
// augmented (if asked) and then normalised. With shard_count > 1 a batch holds only the shard's contiguous
// share of each global batch (same permutation, batch count and augmentation as one process). A sample's
// augmentation is a pure function of (seed, epoch, dataset index), so batches are identical for a seed
// whatever the threads or timing. While the caller works on one batch the next is filled on a worker
// thread; next() swaps buffers with the caller, so once every buffer has reached its largest size (after
// two batches) no batch allocates. start_epoch mid-epoch
// cancels the rest of that epoch; the destructor stops and joins the worker. check_fits<InputShape>
// tells whether a Dataset's images and labels fit a network (the trainer calls it before any step).
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <numeric>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "../core/compiled.hpp"
#include "../core/error.hpp"
#include "../core/rng.hpp"
#include "../core/shape.hpp"
#include "mnist.hpp"
#include "transforms.hpp"

namespace ctnet {

// Throws DataError, naming the file and the shapes found and expected, unless every image of `data` is
// an input of shape InputShape — one channel of rows x cols ([1,] rows, cols), or rows*cols values for a
// flat rank-1 input — and, when classes > 0, every label is below `classes`.
template <class InputShape>
void check_fits(const Dataset& data, int classes) {
  static_assert(!is_tuple_shape_v<InputShape>, "ctnet: check_fits: a Dataset feeds a single-input network");
  constexpr int rank = InputShape::rank;
  const long found = long(data.rows) * long(data.cols);
  bool fits = found == InputShape::size;
  if constexpr (rank == 3) fits = fits && InputShape::dims[0] == 1 && InputShape::dims[1] == data.rows;
  if constexpr (rank == 2) fits = fits && InputShape::dims[0] == data.rows;
  if (!fits) {
    throw DataError(mnist_detail::origin(data.images_file) + "images are 1x" + std::to_string(data.rows) + "x" +
                    std::to_string(data.cols) + " (" + std::to_string(found) + " values), the network's input is " +
                    InputShape::str() + " (" + std::to_string(InputShape::size) + ")");
  }
  if (classes > 0) check_label_range(data, classes);
}

struct LoaderOptions {
  int batch_size = 64;
  bool shuffle = true;
  bool drop_last = false;
  std::uint64_t seed = 1;
  Normalize normalize{};
  std::optional<RandomAffine> augment{};  // a RandomRotation converts to RandomAffine
  // Data-parallel training (dist/): this process takes share shard_rank of shard_count of every global
  // batch of batch_size (dist/communicator.hpp's batch_share); the permutation is the same for any count.
  int shard_rank = 0;
  int shard_count = 1;

  void validate() const;
};

struct Batch {
  std::vector<float> images;  // size x 1 x rows x cols, normalised
  std::vector<int> labels;    // size
  std::vector<int> indices;   // dataset index of each sample
  int size = 0;               // this shard's rows (may be 0 when sharded); all of them otherwise
  int global_size = 0;        // the rows of the global batch, over all shards
  int first_row = 0;          // the global batch's row this shard's first row is (0 unsharded)
};

class DataLoader {
 public:
  DataLoader(const Dataset& data, LoaderOptions options);
  ~DataLoader();

  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  int batches_per_epoch() const {
    const int n = data_.count, b = opt_.batch_size;
    return opt_.drop_last ? n / b : n / b + (n % b != 0);
  }
  const LoaderOptions& options() const { return opt_; }
  const Dataset& dataset() const { return data_; }
  int epoch() const { return epoch_; }

  // Begins epoch `epoch` (>= 0), abandoning whatever is left of the current one.
  void start_epoch(int epoch);

  // Fills `out` with the next batch of the epoch; false (and `out` untouched) once the epoch is over.
  // Reusing the same `out` every call is what keeps the loop allocation-free.
  bool next(Batch& out);

 private:
  void work();

  // Runs on the worker without the lock: it alone touches pending_ and scratch_ while busy_, and
  // start_epoch waits for !busy_ before it rewrites the permutation.
  void fill(Batch& b, int batch, int epoch);

  const Dataset& data_;
  LoaderOptions opt_;
  std::vector<int> permutation_;
  std::vector<float> scratch_;
  Batch pending_;  // filled by the worker, swapped out by next()

  std::mutex mutex_;
  std::condition_variable cv_;
  std::thread worker_;
  int epoch_ = 0;
  int produced_ = 0;  // batches of this epoch the worker has finished
  int consumed_ = 0;  // batches of this epoch next() has handed out
  bool active_ = false;
  bool ready_ = false;                // pending_ holds batch consumed_
  bool busy_ = false;                 // the worker is filling pending_
  std::atomic<bool> cancel_ = false;  // written under mutex_, also polled by fill() without it
  bool stop_ = false;
  std::exception_ptr error_;
};

}  // namespace ctnet

#if CTNET_COLD_BODIES
namespace ctnet {

CTNET_COLD void LoaderOptions::validate() const {
  if (batch_size < 1) throw OptionError("DataLoader: batch_size must be >= 1, got " + std::to_string(batch_size));
  if (shard_count < 1 || shard_rank < 0 || shard_rank >= shard_count)
    throw OptionError("DataLoader: shard " + std::to_string(shard_rank) + " of " + std::to_string(shard_count) +
                      " does not exist");
  normalize.validate();
  if (augment) augment->validate();
}

CTNET_COLD DataLoader::DataLoader(const Dataset& data, LoaderOptions options) : data_(data), opt_(std::move(options)) {
  opt_.validate();
  const std::size_t pixels = static_cast<std::size_t>(data.count) * static_cast<std::size_t>(data.image_size());
  if (data.count < 0 || data.rows < 0 || data.cols < 0 || data.images.size() != pixels ||
      data.labels.size() != static_cast<std::size_t>(data.count)) {
    throw DataError("DataLoader: inconsistent Dataset (count " + std::to_string(data.count) + ", " +
                    std::to_string(data.rows) + "x" + std::to_string(data.cols) + ", " +
                    std::to_string(data.images.size()) + " image bytes, " + std::to_string(data.labels.size()) +
                    " labels)");
  }
  permutation_.resize(static_cast<std::size_t>(data.count));
  scratch_.resize(static_cast<std::size_t>(data.image_size()));
  worker_ = std::thread([this] { work(); });
}

CTNET_COLD DataLoader::~DataLoader() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
    cancel_ = true;
  }
  cv_.notify_all();
  worker_.join();
}

CTNET_COLD void DataLoader::start_epoch(int epoch) {
  if (epoch < 0) throw OptionError("DataLoader: epoch must be >= 0, got " + std::to_string(epoch));
  std::unique_lock<std::mutex> lock(mutex_);
  cancel_ = true;
  cv_.wait(lock, [this] { return !busy_; });  // the worker reads the permutation: let it finish first
  cancel_ = false;
  error_ = nullptr;
  epoch_ = epoch;
  std::iota(permutation_.begin(), permutation_.end(), 0);
  if (opt_.shuffle) {
    Generator g(opt_.seed, RngStream::shuffle, static_cast<std::uint64_t>(epoch));
    for (std::size_t i = permutation_.size(); i > 1; --i) {
      const std::size_t j = g.below(static_cast<std::uint32_t>(i));
      std::swap(permutation_[i - 1], permutation_[j]);
    }
  }
  produced_ = consumed_ = 0;
  ready_ = false;
  active_ = true;
  lock.unlock();
  cv_.notify_all();
}

CTNET_COLD bool DataLoader::next(Batch& out) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!active_) throw Error("DataLoader: next() called before start_epoch()");
  if (consumed_ >= batches_per_epoch()) return false;
  cv_.wait(lock, [this] { return ready_ || error_; });
  if (error_) std::rethrow_exception(error_);
  std::swap(out, pending_);
  ready_ = false;
  ++consumed_;
  lock.unlock();
  cv_.notify_all();
  return true;
}

CTNET_COLD void DataLoader::work() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || (active_ && !ready_ && !error_ && produced_ < batches_per_epoch()); });
    if (stop_) return;
    busy_ = true;
    const int batch = produced_;
    const int epoch = epoch_;
    lock.unlock();
    std::exception_ptr error;
    try {
      fill(pending_, batch, epoch);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    busy_ = false;
    if (!cancel_) {
      if (error) {
        error_ = error;
      } else {
        ready_ = true;
        ++produced_;
      }
    }
    cv_.notify_all();
  }
}

CTNET_COLD void DataLoader::fill(Batch& b, int batch, int epoch) {
  const int global_first = batch * opt_.batch_size;
  const int global_size = std::min(opt_.batch_size, data_.count - global_first);
  // batch_share (dist/communicator.hpp), inlined so the loader needs no dist header.
  const int base = global_size / opt_.shard_count, extra = global_size % opt_.shard_count;
  const int r = opt_.shard_rank;
  const int first = global_first + r * base + std::min(r, extra);
  const int size = base + (r < extra ? 1 : 0);
  const std::size_t pixels = static_cast<std::size_t>(data_.image_size());
  b.size = size;
  b.global_size = global_size;
  b.first_row = first - global_first;
  b.images.resize(static_cast<std::size_t>(size) * pixels);
  b.labels.resize(static_cast<std::size_t>(size));
  b.indices.resize(static_cast<std::size_t>(size));
  for (int i = 0; i < size; ++i) {
    if (cancel_.load(std::memory_order_relaxed)) return;  // start_epoch or the destructor is waiting
    const int index = permutation_[static_cast<std::size_t>(first + i)];
    b.indices[static_cast<std::size_t>(i)] = index;
    b.labels[static_cast<std::size_t>(i)] = data_.labels[static_cast<std::size_t>(index)];
    const std::uint8_t* src = data_.image(index);
    float* dst = b.images.data() + static_cast<std::size_t>(i) * pixels;
    if (opt_.augment) {
      for (std::size_t k = 0; k < pixels; ++k) scratch_[k] = static_cast<float>(src[k]) * (1.0f / 255.0f);
      // Draw (epoch, index) in the augment stream: independent of batch composition and thread timing.
      const std::uint64_t draw = (static_cast<std::uint64_t>(epoch) << 32) | static_cast<std::uint32_t>(index);
      Generator g(opt_.seed, RngStream::augment, draw);
      affine_warp(scratch_.data(), dst, data_.rows, data_.cols, opt_.augment->sample(g, data_.rows, data_.cols));
    } else {
      for (std::size_t k = 0; k < pixels; ++k) dst[k] = static_cast<float>(src[k]) * (1.0f / 255.0f);
    }
    opt_.normalize.apply(dst, pixels);
  }
}

}  // namespace ctnet
#endif  // CTNET_COLD_BODIES
