// ctnet/core/finite.hpp — NaN/Inf scans over arrays, and the error type for numerical faults.
//
// Requires: IEEE-754 float or double. Guarantees: all_finite and first_nonfinite test the exponent bits
// (branch-free, so the scan vectorises and costs about one load per value; -ffast-math cannot fold the
// test away as it may fold std::isfinite); first_nonfinite returns the index of the first NaN or Inf, or
// -1; nonfinite_place says which value and where ("NaN at sample 3, element 17"). NumericalError is the
// ctnet::Error of a diverged computation (training stopped, a checkpoint refused).
#pragma once

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <type_traits>

#include "error.hpp"

namespace ctnet {

// A NaN or Inf where a finite value was required: a diverged run, a diverged model.
class NumericalError : public Error {
 public:
  using Error::Error;
};

namespace detail {
template <class T>
struct float_bits;
template <>
struct float_bits<float> {
  using type = std::uint32_t;
  static constexpr type exponent = 0x7f800000u;
};
template <>
struct float_bits<double> {
  using type = std::uint64_t;
  static constexpr type exponent = 0x7ff0000000000000ull;
};
template <class T>
bool nonfinite_bits(T v) {
  using B = float_bits<T>;
  return (std::bit_cast<typename B::type>(v) & B::exponent) == B::exponent;
}
}  // namespace detail

template <class T>
bool all_finite(const T* p, std::size_t n) {
  using B = detail::float_bits<std::remove_const_t<T>>;
  typename B::type bad = 0;
  for (std::size_t i = 0; i < n; ++i)
    bad |= typename B::type((std::bit_cast<typename B::type>(p[i]) & B::exponent) == B::exponent);
  return bad == 0;
}
template <class T>
bool all_finite(std::span<T> s) {
  return all_finite(s.data(), s.size());
}

template <class T>
long first_nonfinite(const T* p, std::size_t n) {
  if (all_finite(p, n)) return -1;
  for (std::size_t i = 0; i < n; ++i)
    if (detail::nonfinite_bits(p[i])) return long(i);
  return -1;
}

// "NaN", "+Inf" or "-Inf" (or the number, for a finite value).
inline std::string value_name(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return std::to_string(v);
}

// "NaN at sample 3, element 17" for a [n x per_sample] batch, or "NaN at element 17" when per_sample is 0.
template <class T>
std::string nonfinite_place(const T* p, long index, long per_sample = 0) {
  std::string s = value_name(double(p[index])) + " at ";
  if (per_sample > 0)
    return s + "sample " + std::to_string(index / per_sample) + ", element " + std::to_string(index % per_sample);
  return s + "element " + std::to_string(index);
}

// The first non-finite value of raw little-endian F32 or F64 bytes (other dtypes: -1), as a loader sees them.
inline long first_nonfinite_bytes(const std::string& dtype, const std::uint8_t* bytes, std::size_t size,
                                  double& value) {
  const auto scan = [&]<class T>(T) -> long {
    for (std::size_t i = 0; i + sizeof(T) <= size; i += sizeof(T)) {
      T v;
      std::memcpy(&v, bytes + i, sizeof(T));
      if (detail::nonfinite_bits(v)) {
        value = double(v);
        return long(i / sizeof(T));
      }
    }
    return -1;
  };
  if (dtype == "F32") return scan(0.0f);
  if (dtype == "F64") return scan(0.0);
  return -1;
}

}  // namespace ctnet
