// ctnet/train/safetensors_read.hpp — load_safetensors(): read a safetensors file, trusting nothing in it.
//
// Requires: a little-endian host. Guarantees: every length, offset and type is checked before use, and any
// defect throws CheckpointError naming the path and the precise reason.
// Limits (hostile files): the path must be a regular file; the header is at most safetensors_max_header_bytes
// (100 MB, the reference implementation's limit) and no larger than the file, nests at most 64 deep and holds
// at most safetensors_max_header_values (2^22) JSON values, so parsing it costs at most a few hundred MB; each
// tensor's byte range must lie in the file, match its shape and dtype, and the ranges must tile the data
// buffer exactly (no overlap, hole or tail) before any tensor is allocated, so tensor memory never exceeds the
// file's size. Tensors are returned in file offset order.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "../core/compiled.hpp"
#include "../core/json.hpp"
#include "safetensors_format.hpp"

namespace ctnet {

CTNET_COLD SafetensorsFile load_safetensors(const std::string& path);

}  // namespace ctnet

#if CTNET_COLD_BODIES
#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <set>
#include <string_view>
#include <system_error>

namespace ctnet {

CTNET_COLD SafetensorsFile load_safetensors(const std::string& path) {
  auto fail = [&](const std::string& reason) { detail::safetensors_fail(path, reason); };
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status))
    fail("cannot open: " + (ec ? ec.message() : std::make_error_code(std::errc::no_such_file_or_directory).message()));
  if (std::filesystem::is_directory(status)) fail("cannot open: it is a directory, not a file");
  if (!std::filesystem::is_regular_file(status)) fail("cannot open: not a regular file");
  const std::uint64_t file_size = std::filesystem::file_size(path, ec);
  if (ec) fail("cannot open: " + ec.message());
  if (file_size < 8) fail("file is " + std::to_string(file_size) + " bytes, shorter than 8 bytes (the header size)");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open for reading: " + std::error_code(errno, std::generic_category()).message());
  std::uint64_t n = 0;
  if (!in.read(reinterpret_cast<char*>(&n), 8)) fail("cannot read the header size");
  if (n > safetensors_max_header_bytes)
    fail("header size " + std::to_string(n) + " is absurd (limit " + std::to_string(safetensors_max_header_bytes) +
         " bytes)");
  if (n > file_size - 8)
    fail("header size " + std::to_string(n) + " is larger than the file (" + std::to_string(file_size) + " bytes)");
  std::string text(n, '\0');
  if (!in.read(text.data(), static_cast<std::streamsize>(n))) fail("cannot read the header");
  const std::uint64_t buffer_size = file_size - 8 - n;

  JsonValue header;
  try {
    // Duplicates are kept so they can be reported below as what they are (a duplicate tensor name, ...).
    header = parse_json(text, {.max_depth = 64,
                               .allow_duplicate_keys = true,
                               .max_values = safetensors_max_header_values});
  } catch (const JsonError& e) {
    fail("header is not valid JSON: " + e.reason() + " at byte " + std::to_string(e.position()) + " of the header");
  }
  if (!header.is_object()) fail("header is not a JSON object (it is " + header.describe() + ")");
  if (text.front() != '{') fail("header must start with '{' (the format forbids leading whitespace)");

  SafetensorsFile out;
  struct Span {
    std::uint64_t begin, end;
    std::size_t index;
  };
  std::vector<Span> spans;
  std::set<std::string_view> names;
  bool have_metadata = false;
  for (const auto& [name, entry] : header.as_object()) {
    if (name == "__metadata__") {
      if (have_metadata) fail("duplicate \"__metadata__\"");
      have_metadata = true;
      if (!entry.is_object()) fail("\"__metadata__\" is not an object");
      for (const auto& [k, v] : entry.as_object()) {
        if (!v.is_string()) fail("\"__metadata__\" value for key \"" + k + "\" is not a string");
        if (!out.metadata.emplace(k, v.as_string()).second) fail("duplicate \"__metadata__\" key \"" + k + "\"");
      }
      continue;
    }
    const std::string what = "tensor '" + name + "': ";
    if (!names.insert(name).second) fail("duplicate tensor name '" + name + "'");
    if (!entry.is_object()) fail(what + "entry is not an object");
    const JsonValue *dtype = nullptr, *shape = nullptr, *offsets = nullptr;
    for (const auto& [key, value] : entry.as_object()) {
      const JsonValue** slot = key == "dtype"          ? &dtype
                               : key == "shape"        ? &shape
                               : key == "data_offsets" ? &offsets
                                                       : nullptr;
      if (!slot) fail(what + "unexpected key \"" + key + "\"");
      if (*slot) fail(what + "duplicate key \"" + key + "\"");
      *slot = &value;
    }
    if (!dtype) fail(what + "missing \"dtype\"");
    if (!shape) fail(what + "missing \"shape\"");
    if (!offsets) fail(what + "missing \"data_offsets\"");
    if (!dtype->is_string()) fail(what + "\"dtype\" is not a string");
    const std::size_t elem = safetensors_dtype_size(dtype->as_string());
    if (elem == 0) fail(what + "unknown dtype \"" + dtype->as_string() + "\"");
    TensorRecord rec{name, dtype->as_string(), {}, {}};
    if (!shape->is_array()) fail(what + "\"shape\" is not an array");
    for (const auto& d : shape->as_array()) {
      if (!d.is_integer()) fail(what + "\"shape\" holds a non-integer");
      if (d.as_int64() < 0) fail(what + "\"shape\" has a negative dimension " + std::to_string(d.as_int64()));
      rec.shape.push_back(d.as_int64());
    }
    std::uint64_t expect = 0;
    if (!detail::safetensors_byte_count(rec.shape, elem, expect) || expect > file_size)
      fail(what + "shape " + detail::shape_string(rec.shape) + " is larger than the file");
    if (!offsets->is_array() || offsets->size() != 2 || !offsets->as_array()[0].is_integer() ||
        !offsets->as_array()[1].is_integer() || offsets->as_array()[0].as_int64() < 0 ||
        offsets->as_array()[1].as_int64() < 0)
      fail(what + "\"data_offsets\" must be two non-negative integers");
    const auto begin = static_cast<std::uint64_t>(offsets->as_array()[0].as_int64());
    const auto end = static_cast<std::uint64_t>(offsets->as_array()[1].as_int64());
    const std::string range = "[" + std::to_string(begin) + ", " + std::to_string(end) + "]";
    if (end < begin) fail(what + "\"data_offsets\" " + range + " end before begin");
    if (end - begin != expect)
      fail(what + "byte length " + std::to_string(end - begin) + " does not match shape " +
           detail::shape_string(rec.shape) + " of " + rec.dtype + " (" + std::to_string(expect) + " bytes)");
    if (end > buffer_size)
      fail(what + "\"data_offsets\" " + range + " out of bounds (the data buffer is " + std::to_string(buffer_size) +
           " bytes)");
    spans.push_back({begin, end, out.tensors.size()});
    out.tensors.push_back(std::move(rec));
  }

  // The buffer must be exactly the tensors, back to back: overlaps alias data, holes and tails hide data.
  // Ties broken by header order, as a stable sort would (std::stable_sort warns under clang 19 + libstdc++ 12).
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end != b.end ? a.end < b.end : a.index < b.index;
  });
  std::uint64_t cursor = 0;
  const std::string* previous = nullptr;
  for (const auto& s : spans) {
    const std::string& name = out.tensors[s.index].name;
    if (s.begin < cursor) fail("tensor '" + name + "' overlaps tensor '" + *previous + "'");
    if (s.begin > cursor)
      fail("hole of " + std::to_string(s.begin - cursor) + " bytes before tensor '" + name + "' at offset " +
           std::to_string(cursor));
    cursor = s.end;
    previous = &name;
  }
  if (cursor != buffer_size)
    fail(std::to_string(buffer_size - cursor) + " trailing bytes after the last tensor (data ends at offset " +
         std::to_string(cursor) + ")");

  std::vector<TensorRecord> ordered;
  ordered.reserve(spans.size());
  for (const auto& s : spans) {
    TensorRecord& rec = out.tensors[s.index];
    rec.bytes.resize(s.end - s.begin);
    if (!rec.bytes.empty() &&
        !in.read(reinterpret_cast<char*>(rec.bytes.data()), static_cast<std::streamsize>(rec.bytes.size())))
      fail("unexpected end of file reading tensor '" + rec.name + "'");
    ordered.push_back(std::move(rec));
  }
  out.tensors = std::move(ordered);
  return out;
}

}  // namespace ctnet
#endif  // CTNET_COLD_BODIES
