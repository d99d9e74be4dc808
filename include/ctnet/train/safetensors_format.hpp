// ctnet/train/safetensors_format.hpp — the safetensors format's vocabulary: dtypes, limits, tensor records.
//
// Format (huggingface/safetensors): 8-byte little-endian u64 N, then N bytes of UTF-8 JSON mapping each tensor
// name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets into the byte buffer that follows the header)
// plus an optional "__metadata__" object of string -> string; tensors are little-endian and row-major.
//
// Requires: a little-endian host. Guarantees: the types the reader (safetensors_read.hpp) returns and the
// writer (safetensors_write.hpp) takes, the dtype table and the limits on hostile files, and nothing else.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "../core/error.hpp"

namespace ctnet {

static_assert(std::endian::native == std::endian::little,
              "ctnet: safetensors I/O copies tensor bytes as-is and so requires a little-endian host");

// A tensor to save; `data` must stay valid for the duration of the call.
struct TensorView {
  std::string name;
  std::string dtype;  // "F32", "F64", "I64", ... (any safetensors dtype name)
  std::vector<std::int64_t> shape;
  const void* data = nullptr;
  std::size_t bytes = 0;
};

// Bytes per element of a safetensors dtype, 0 when the name is unknown.
inline std::size_t safetensors_dtype_size(std::string_view dtype) noexcept {
  struct Entry {
    std::string_view name;
    std::size_t size;
  };
  static constexpr Entry table[] = {{"BOOL", 1}, {"U8", 1},  {"I8", 1},   {"F8_E5M2", 1}, {"F8_E4M3", 1},
                                    {"I16", 2},  {"U16", 2}, {"F16", 2},  {"BF16", 2},    {"I32", 4},
                                    {"U32", 4},  {"F32", 4}, {"F64", 8},  {"I64", 8},     {"U64", 8}};
  for (const auto& e : table)
    if (e.name == dtype) return e.size;
  return 0;
}

inline constexpr std::uint64_t safetensors_max_header_bytes = 100'000'000;  // the reference implementation's limit
// About 400,000 tensors (a tensor is 6 values plus one per dimension); bounds the parsed header's memory,
// which is ~40 bytes per value, whatever the header's text.
inline constexpr std::size_t safetensors_max_header_values = std::size_t{1} << 22;

struct TensorRecord {
  std::string name;
  std::string dtype;
  std::vector<std::int64_t> shape;
  std::vector<std::uint8_t> bytes;

  // A loaded tensor's shape multiplies out to its byte count, so this cannot overflow; a zero dimension is
  // looked for first because [huge, huge, 0] is a valid empty tensor whose product would overflow on the way.
  std::int64_t numel() const {
    if (std::find(shape.begin(), shape.end(), 0) != shape.end()) return 0;
    std::int64_t n = 1;
    for (const auto d : shape) n *= d;
    return n;
  }
  std::vector<float> as_f32() const { return as<float>("F32"); }
  std::vector<double> as_f64() const { return as<double>("F64"); }
  std::vector<std::int64_t> as_i64() const { return as<std::int64_t>("I64"); }

 private:
  template <class T>
  std::vector<T> as(std::string_view want) const {
    if (dtype != want) throw CheckpointError("tensor '" + name + "' has dtype " + dtype + ", not " + std::string(want));
    std::vector<T> out(bytes.size() / sizeof(T));
    if (!out.empty()) std::memcpy(out.data(), bytes.data(), out.size() * sizeof(T));
    return out;
  }
};

struct SafetensorsFile {
  std::map<std::string, std::string> metadata;
  std::vector<TensorRecord> tensors;  // in file offset order

  const TensorRecord* find(const std::string& name) const {
    for (const auto& t : tensors)
      if (t.name == name) return &t;
    return nullptr;
  }
};

namespace detail {

[[noreturn]] inline void safetensors_fail(const std::string& path, const std::string& reason) {
  throw CheckpointError("safetensors file '" + path + "': " + reason);
}

inline std::string shape_string(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s.append(i ? ", " : "").append(std::to_string(shape[i]));
  return s + "]";
}

// Bytes a tensor of this shape and element size occupies; false on negative dims or u64 overflow.
inline bool safetensors_byte_count(const std::vector<std::int64_t>& shape, std::size_t elem, std::uint64_t& out) {
  out = elem;
  for (const auto d : shape) {
    if (d < 0) return false;
    if (d == 0) out = 0;  // a zero dim makes the tensor empty however large the others are
  }
  if (out == 0) return true;
  for (const auto d : shape) {
    const auto u = static_cast<std::uint64_t>(d);
    if (out > std::numeric_limits<std::uint64_t>::max() / u) return false;
    out *= u;
  }
  return true;
}

}  // namespace detail

}  // namespace ctnet
