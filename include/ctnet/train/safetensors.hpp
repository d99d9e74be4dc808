// ctnet/train/safetensors.hpp — read and write safetensors files, the checkpoint format NumPy/PyTorch tools read.
//
// Format (huggingface/safetensors): 8-byte little-endian u64 N, then N bytes of UTF-8 JSON mapping each tensor
// name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets into the byte buffer that follows the header)
// plus an optional "__metadata__" object of string -> string; tensors are little-endian and row-major.
//
// Requires: a little-endian host. Guarantees: save_safetensors writes tensors in the given order with the header
// space-padded to a multiple of 8 bytes, and replaces `path` atomically (a crash leaves the old file or the new
// one, never half of one; the data is fsynced before the rename and the directory after it, so once it
// returns the new file survives a power cut too); it refuses (CheckpointError) a `path` or `path.tmp` that is a directory, device,
// FIFO, socket or symbolic link (see core/output_file.hpp), so nothing but a regular file is ever replaced.
// load_safetensors trusts nothing in the file: every length, offset and type is checked
// before use, and any defect throws CheckpointError naming the path and the precise reason.
// Limits (hostile files): the path must be a regular file; the header is at most safetensors_max_header_bytes
// (100 MB, the reference implementation's limit) and no larger than the file, nests at most 64 deep and holds
// at most safetensors_max_header_values (2^22) JSON values, so parsing it costs at most a few hundred MB; each
// tensor's byte range must lie in the file, match its shape and dtype, and the ranges must tile the data
// buffer exactly (no overlap, hole or tail) before any tensor is allocated, so tensor memory never exceeds the
// file's size.
#pragma once

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#if __has_include(<unistd.h>)
#include <fcntl.h>
#include <unistd.h>
#endif

#include "../core/error.hpp"
#include "../core/json.hpp"
#include "../core/output_file.hpp"

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

// Closes and deletes the temporary file unless the save completed, so failures leave no debris.
struct TempFileGuard {
  std::FILE* file = nullptr;
  std::string path;
  bool done = false;
  ~TempFileGuard() {
    if (file) std::fclose(file);
    if (!done) std::remove(path.c_str());
  }
};

}  // namespace detail

inline void save_safetensors(const std::string& path, const std::vector<TensorView>& tensors,
                             const std::map<std::string, std::string>& metadata = {}) {
  auto fail = [&](const std::string& reason) { detail::safetensors_fail(path, reason); };
  // Only a regular file (or nothing) is replaced, and the temporary is never a device, FIFO or link either.
  for (const std::string& p : {path, path + ".tmp"})
    if (const std::string problem = output_file_problem(p); !problem.empty()) fail(problem);
  JsonValue header = JsonValue::object();
  if (!metadata.empty()) {
    JsonValue meta = JsonValue::object();
    for (const auto& [k, v] : metadata) meta.as_object().emplace_back(k, JsonValue(v));
    header.as_object().emplace_back("__metadata__", std::move(meta));
  }
  std::set<std::string_view> names;
  std::uint64_t offset = 0;
  for (const auto& t : tensors) {
    const std::string what = "tensor '" + t.name + "': ";
    if (t.name == "__metadata__") fail(what + "the name is reserved for metadata");
    if (!names.insert(t.name).second) fail("duplicate tensor name '" + t.name + "'");
    const std::size_t elem = safetensors_dtype_size(t.dtype);
    if (elem == 0) fail(what + "unknown dtype \"" + t.dtype + "\"");
    std::uint64_t expect = 0;
    if (!detail::safetensors_byte_count(t.shape, elem, expect))
      fail(what + "invalid shape " + detail::shape_string(t.shape));
    if (expect != t.bytes)
      fail(what + std::to_string(t.bytes) + " bytes given but shape " + detail::shape_string(t.shape) + " of " +
           t.dtype + " needs " + std::to_string(expect));
    if (t.bytes > 0 && t.data == nullptr) fail(what + "null data pointer");
    JsonValue entry = JsonValue::object();
    entry["dtype"] = t.dtype;
    JsonValue& shape = entry["shape"] = JsonValue::array();
    for (const auto d : t.shape) shape.push_back(d);
    entry["data_offsets"] = JsonValue::Array{JsonValue(offset), JsonValue(offset + t.bytes)};
    header.as_object().emplace_back(t.name, std::move(entry));
    offset += t.bytes;
  }
  std::string text = to_json(header);
  text.append((8 - text.size() % 8) % 8, ' ');  // keeps the byte buffer 8-aligned, so readers may map it

  detail::TempFileGuard tmp;
  tmp.path = path + ".tmp";
  auto io_fail = [&](const std::string& what) {
    fail(what + " '" + tmp.path + "': " + std::error_code(errno, std::generic_category()).message());
  };
  tmp.file = std::fopen(tmp.path.c_str(), "wb");
  if (!tmp.file) io_fail("cannot open");
  const std::uint64_t n = text.size();
  bool ok = std::fwrite(&n, 8, 1, tmp.file) == 1 && std::fwrite(text.data(), 1, text.size(), tmp.file) == text.size();
  for (std::size_t i = 0; ok && i < tensors.size(); ++i)
    ok = tensors[i].bytes == 0 || std::fwrite(tensors[i].data, 1, tensors[i].bytes, tmp.file) == tensors[i].bytes;
  if (!ok || std::fflush(tmp.file) != 0) io_fail("write failed on");
#if __has_include(<unistd.h>)
  if (::fsync(::fileno(tmp.file)) != 0) io_fail("fsync failed on");  // the rename must not outrun the data
#endif
  const int closed = std::fclose(tmp.file);
  tmp.file = nullptr;
  if (closed != 0) io_fail("close failed on");
  std::error_code ec;
  std::filesystem::rename(tmp.path, path, ec);
  if (ec) fail("cannot rename '" + tmp.path + "' into place: " + ec.message());
  tmp.done = true;
#if __has_include(<unistd.h>)
  // The rename lives in the directory: until the directory is synced a power cut may still undo it.
  const std::string dir = std::filesystem::path(path).parent_path().string();
  const int dir_fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dir_fd < 0)
    fail("cannot open its directory to sync it: " + std::error_code(errno, std::generic_category()).message());
  const bool synced = ::fsync(dir_fd) == 0 || errno == EINVAL;  // EINVAL: a file system without directory sync
  const int sync_error = errno;
  ::close(dir_fd);
  if (!synced) fail("fsync of its directory failed: " + std::error_code(sync_error, std::generic_category()).message());
#endif
}

inline SafetensorsFile load_safetensors(const std::string& path) {
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
    if (!rec.bytes.empty() && !in.read(reinterpret_cast<char*>(rec.bytes.data()), static_cast<std::streamsize>(rec.bytes.size())))
      fail("unexpected end of file reading tensor '" + rec.name + "'");
    ordered.push_back(std::move(rec));
  }
  out.tensors = std::move(ordered);
  return out;
}

}  // namespace ctnet
