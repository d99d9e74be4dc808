// ctnet/backend/cpu/buffer.hpp — the CPU backend's memory: a plain host array.
//
// Requires: nothing. Guarantees: the same interface every backend's Buffer offers (resize, data, size,
// zero, upload, download), so Model is written once; on the CPU the memory is directly host-accessible and starts on a cache line.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

#include "aligned.hpp"

namespace ctnet::cpu {

template <class T>
class Buffer {
 public:
  void resize(std::size_t n) { data_.assign(n, T(0)); }
  T* data() { return data_.data(); }
  const T* data() const { return data_.data(); }
  std::size_t size() const { return data_.size(); }
  void zero() { std::fill(data_.begin(), data_.end(), T(0)); }
  void upload(const T* host, std::size_t count, std::size_t offset = 0) {
    std::copy(host, host + count, data_.begin() + long(offset));
  }
  void download(T* host, std::size_t count, std::size_t offset = 0) const {
    std::copy(data_.begin() + long(offset), data_.begin() + long(offset + count), host);
  }

 private:
  AlignedVector<T> data_;
};

}  // namespace ctnet::cpu
