// ctnet/backend/cuda/buffer.cuh — the Cuda backend's memory: one device array, RAII and move-only.
//
// Requires: a CUDA device for any non-empty buffer; T trivially copyable. Guarantees: the interface every
// backend's Buffer offers (resize, data, size, zero, upload, download), so Model is written once.
// resize() frees, allocates and zero-fills, and bumps memory_generation() (a graph captured before would
// use the freed memory: its replay then refuses to run); zero() is a cudaMemsetAsync on cuda::stream() (so it can be
// captured in a graph); upload/download copy on cuda::stream() and wait for the copy, so host memory may
// be reused at once. Every failure throws ctnet::Error saying what was being done and the CUDA error.
#pragma once

#include <cstddef>
#include <string>
#include <type_traits>
#include <utility>

#include "runtime.cuh"

namespace ctnet::cuda {

template <class T>
class Buffer {
  static_assert(std::is_trivially_copyable_v<T>, "ctnet: cuda::Buffer holds trivially copyable values only");

 public:
  Buffer() = default;
  explicit Buffer(std::size_t n) { allocate(n); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  Buffer(Buffer&& other) noexcept : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  Buffer& operator=(Buffer&& other) noexcept {
    if (this != &other) {
      if (data_) note_memory_moved();  // memory a graph may use is freed
      release();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }
  ~Buffer() { release(); }

  void resize(std::size_t n) {
    note_memory_moved();
    allocate(n);
  }
  T* data() { return data_; }
  const T* data() const { return data_; }
  std::size_t size() const { return size_; }
  void zero() {
    if (size_) CTNET_CUDA_CHECK(cudaMemsetAsync(data_, 0, size_ * sizeof(T), stream()), "zeroing a device buffer");
  }
  void upload(const T* host, std::size_t count, std::size_t offset = 0) {
    check_range(count, offset, "upload");
    if (count == 0) return;
    CTNET_CUDA_CHECK(cudaMemcpyAsync(data_ + offset, host, count * sizeof(T), cudaMemcpyHostToDevice, stream()),
          "copying to the device");
    synchronize();
  }
  void download(T* host, std::size_t count, std::size_t offset = 0) const {
    check_range(count, offset, "download");
    if (count == 0) return;
    CTNET_CUDA_CHECK(cudaMemcpyAsync(host, data_ + offset, count * sizeof(T), cudaMemcpyDeviceToHost, stream()),
          "copying from the device");
    synchronize();
  }

 private:
  void check_range(std::size_t count, std::size_t offset, const char* what) const {
    if (offset > size_ || count > size_ - offset)
      throw Error(std::string("cuda::Buffer::") + what + " of " + std::to_string(count) + " values at offset " +
                  std::to_string(offset) + " overruns a buffer of " + std::to_string(size_));
  }
  void allocate(std::size_t n) {
    release();
    if (n == 0) return;
    CTNET_CUDA_CHECK(cudaMalloc(&data_, n * sizeof(T)),
                     ("allocating " + std::to_string(n * sizeof(T)) + " bytes").c_str());
    size_ = n;
    zero();
    synchronize();
  }
  void release() noexcept {
    if (data_) (void)cudaFree(data_);  // a destructor must not throw; a failed free leaks at worst
    data_ = nullptr;
    size_ = 0;
  }

  T* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace ctnet::cuda
