// ctnet/backend/cuda/data.cuh — an MNIST-format data set resident on the device, and batch gathering.
//
// Requires: byte images [count x rows x cols] and byte labels [count] (ctnet::Dataset's layout). Guarantees:
// the set is uploaded once; gather() builds a normalised float batch and its int targets on the device
// from a device list of sample indices through the shared bodies of backend/common/data.hpp, so the batch
// equals DataLoader's (without augmentation) value for value. EpochOrder holds DataLoader's shuffled
// order for an epoch on the device. Inside a captured cuda::Graph the batch index advances with the
// graph's replay counter (modulo batches_per_epoch), so each replay trains on the next batch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "../common/data.hpp"
#include "buffer.cuh"
#include "runtime.cuh"

namespace ctnet::cuda {

template <class T>
__global__ void gather_kernel(const std::uint8_t* images, const std::uint8_t* labels, const int* order, long batch,
                              const std::uint64_t* counter, long batches_per_epoch, int batch_size, long image_size,
                              T* out, int* targets, float mean, float inv_std) {
  const long b = (batch + (counter ? long(*counter % std::uint64_t(batches_per_epoch)) : 0L)) % batches_per_epoch;
  const int* indices = order + b * batch_size;
  const long total = long(batch_size) * image_size;
  CTNET_CUDA_FOR(i, total) {
    kernels::gather_normalize(i, images, indices, image_size, out, mean, inv_std);
    if (targets && i < batch_size) kernels::gather_label(i, labels, indices, targets);
  }
}

class DeviceDataset {
 public:
  DeviceDataset(const std::uint8_t* images, const std::uint8_t* labels, int count, int rows, int cols)
      : count_(count), rows_(rows), cols_(cols) {
    if (count < 1 || rows < 1 || cols < 1)
      throw Error("cuda::DeviceDataset: count, rows and cols must be positive, got " + std::to_string(count) + ", " +
                  std::to_string(rows) + ", " + std::to_string(cols));
    images_.resize(std::size_t(count) * rows * cols);
    images_.upload(images, images_.size());
    labels_.resize(std::size_t(count));
    labels_.upload(labels, labels_.size());
  }
  // From a ctnet::Dataset (or anything with images, labels, count, rows, cols).
  template <class D>
  explicit DeviceDataset(const D& d)
      : DeviceDataset(checked(d).images.data(), d.labels.data(), d.count, d.rows, d.cols) {}

  int count() const { return count_; }
  int rows() const { return rows_; }
  int cols() const { return cols_; }
  long image_size() const { return long(rows_) * cols_; }
  const std::uint8_t* images() const { return images_.data(); }
  const std::uint8_t* labels() const { return labels_.data(); }

  // Batch `batch` of `order` (device, batch_size indices per batch) into out [batch_size x rows x cols],
  // normalised as Normalize{mean, std}; targets (optional) [batch_size].
  template <class T>
  void gather(const int* order, long batch, int batch_size, long batches_per_epoch, T* out, int* targets,
              float mean = 0.1307f, float std = 0.3081f) const {
    if (batch_size < 1 || batches_per_epoch < 1 || batch < 0)
      throw Error("cuda::DeviceDataset::gather: batch_size and batches_per_epoch must be positive");
    const long total = long(batch_size) * image_size();
    gather_kernel<<<grid_for(total), block_threads, 0, stream()>>>(images_.data(), labels_.data(), order, batch,
                                                                   graph_step_counter(), batches_per_epoch, batch_size,
                                                                   image_size(), out, targets, mean, 1.0f / std);
    CTNET_CUDA_CHECK_LAUNCH("gather_kernel");
  }

 private:
  template <class D>
  static const D& checked(const D& d) {
    if (d.images.size() != std::size_t(d.count) * d.rows * d.cols || d.labels.size() != std::size_t(d.count))
      throw Error("cuda::DeviceDataset: inconsistent data set (" + std::to_string(d.count) + " samples, " +
                  std::to_string(d.images.size()) + " image bytes, " + std::to_string(d.labels.size()) + " labels)");
    return d;
  }

  int count_, rows_, cols_;
  Buffer<std::uint8_t> images_, labels_;
};

// DataLoader's sample order for an epoch (epoch_order), on the device; batches are consecutive slices.
class EpochOrder {
 public:
  explicit EpochOrder(int count) : count_(count), order_(std::size_t(count)) {}
  void set_epoch(std::uint64_t seed, int epoch, bool shuffle = true) {
    const std::vector<int> host = epoch_order(count_, seed, epoch, shuffle);
    order_.upload(host.data(), host.size());
  }
  const int* data() const { return order_.data(); }
  int count() const { return count_; }

 private:
  int count_;
  Buffer<int> order_;
};

}  // namespace ctnet::cuda
