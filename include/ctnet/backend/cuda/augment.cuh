// ctnet/backend/cuda/augment.cuh — DataLoader's random affine augmentation on the device.
//
// Requires: a DeviceDataset, an EpochOrder (or any device list of sample indices) and a RandomAffine.
// Guarantees: DeviceAugment::set_epoch draws every sample's transform on the host exactly as DataLoader does
// for (seed, epoch, dataset index) and uploads the table (48 bytes per sample); gather() builds a batch
// that equals DataLoader's augmented, normalised batch bit for bit (the shared body of
// backend/common/augment.hpp) with its int targets. Inside a captured cuda::Graph the batch index advances
// with the graph's replay counter, as DeviceDataset::gather's does; set_epoch between replays is allowed
// (it is a copy on cuda::stream(), ordered after earlier replays).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "../common/augment.hpp"
#include "../common/data.hpp"
#include "buffer.cuh"
#include "data.cuh"
#include "runtime.cuh"

namespace ctnet::cuda {

template <class T>
__global__ void gather_affine_kernel(const std::uint8_t* images, const std::uint8_t* labels,
                                     const kernels::AffineCoefficients* coefficients, const int* order, long batch,
                                     const std::uint64_t* counter, long batches_per_epoch, int batch_size, int rows,
                                     int cols, T* out, int* targets, float mean, float inv_std) {
  const long b = (batch + (counter ? long(*counter % std::uint64_t(batches_per_epoch)) : 0L)) % batches_per_epoch;
  const int* indices = order + b * batch_size;
  const long total = long(batch_size) * rows * cols;
  CTNET_CUDA_FOR(i, total) {
    kernels::gather_affine(i, images, indices, coefficients, rows, cols, out, mean, inv_std);
    if (targets && i < batch_size) kernels::gather_label(i, labels, indices, targets);
  }
}

class DeviceAugment {
 public:
  DeviceAugment(const RandomAffine& augment, std::uint64_t seed) : augment_(augment), seed_(seed) {
    augment_.validate();
  }

  // The transforms of epoch `epoch` for every sample of `data` (as DataLoader::start_epoch(epoch)).
  void set_epoch(const DeviceDataset& data, int epoch) {
    std::vector<kernels::AffineCoefficients> host;
    kernels::affine_table(augment_, seed_, epoch, data.count(), data.rows(), data.cols(), host);
    upload(host);
  }
  // A table computed elsewhere (e.g. the next epoch's, on a host thread while the device trains).
  void upload(const std::vector<kernels::AffineCoefficients>& host) {
    if (table_.size() != host.size()) table_.resize(host.size());
    table_.upload(host.data(), host.size());
  }
  const RandomAffine& augment() const { return augment_; }
  std::uint64_t seed() const { return seed_; }

  // As DeviceDataset::gather, with the epoch's transforms applied before normalisation.
  template <class T>
  void gather(const DeviceDataset& data, const int* order, long batch, int batch_size, long batches_per_epoch, T* out,
              int* targets, float mean = 0.1307f, float std = 0.3081f) const {
    if (batch_size < 1 || batches_per_epoch < 1 || batch < 0)
      throw Error("cuda::DeviceAugment::gather: batch_size and batches_per_epoch must be positive");
    if (table_.size() != std::size_t(data.count()))
      throw Error("cuda::DeviceAugment::gather: set_epoch was not called for this data set (" +
                  std::to_string(table_.size()) + " transforms, " + std::to_string(data.count()) + " samples)");
    const long total = long(batch_size) * data.image_size();
    gather_affine_kernel<<<grid_for(total), block_threads, 0, stream()>>>(
        data.images(), data.labels(), table_.data(), order, batch, graph_step_counter(), batches_per_epoch,
        batch_size, data.rows(), data.cols(), out, targets, mean, 1.0f / std);
    CTNET_CUDA_CHECK_LAUNCH("gather_affine_kernel");
  }

 private:
  RandomAffine augment_;
  std::uint64_t seed_;
  Buffer<kernels::AffineCoefficients> table_;
};

}  // namespace ctnet::cuda
