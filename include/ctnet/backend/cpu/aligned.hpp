// ctnet/backend/cpu/aligned.hpp — a std::allocator that aligns to a cache line.
//
// Requires: C++17 aligned new. Guarantees: every allocation starts on a 64-byte boundary, so a tensor
// whose rows are whole cache lines is read by the SIMD kernels without loads that straddle two lines
// (which would otherwise make a run's speed depend on where malloc happened to place its buffers).
#pragma once

#include <cstddef>
#include <new>
#include <vector>

namespace ctnet::cpu {

inline constexpr std::size_t cache_line = 64;

template <class T>
struct CacheAlignedAllocator {
  using value_type = T;
  CacheAlignedAllocator() = default;
  template <class U>
  CacheAlignedAllocator(const CacheAlignedAllocator<U>&) {}
  T* allocate(std::size_t n) {
    return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t{cache_line}));
  }
  void deallocate(T* p, std::size_t) { ::operator delete(p, std::align_val_t{cache_line}); }
  template <class U>
  bool operator==(const CacheAlignedAllocator<U>&) const {
    return true;
  }
};

template <class T>
using AlignedVector = std::vector<T, CacheAlignedAllocator<T>>;

}  // namespace ctnet::cpu
