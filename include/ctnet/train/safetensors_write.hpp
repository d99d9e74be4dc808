// ctnet/train/safetensors_write.hpp — save_safetensors(): write tensors and metadata as a safetensors file.
//
// Requires: a little-endian host; each TensorView's data valid during the call. Guarantees: tensors are written
// in the given order with the header space-padded to a multiple of 8 bytes, and `path` is replaced atomically
// (a crash leaves the old file or the new one, never half of one; the data is fsynced before the rename and
// the directory after it, so once it returns the new file survives a power cut too); it refuses
// (CheckpointError) a `path` or `path.tmp` that is a directory, device, FIFO, socket or symbolic link (see
// core/output_file.hpp), so nothing but a regular file is ever replaced; a bad view (reserved or duplicate
// name, unknown dtype, byte count that does not match the shape) throws before anything is written.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "../core/compiled.hpp"
#include "../core/json.hpp"
#include "../core/output_file.hpp"
#include "safetensors_format.hpp"

namespace ctnet {

CTNET_COLD void save_safetensors(const std::string& path, const std::vector<TensorView>& tensors,
                                 const std::map<std::string, std::string>& metadata = {});

}  // namespace ctnet

#if CTNET_COLD_BODIES
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <set>
#include <string_view>
#include <system_error>

#if __has_include(<unistd.h>)
#include <fcntl.h>
#include <unistd.h>
#endif

namespace ctnet {

namespace detail {

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

CTNET_COLD void save_safetensors(const std::string& path, const std::vector<TensorView>& tensors,
                                 const std::map<std::string, std::string>& metadata) {
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

}  // namespace ctnet
#endif  // CTNET_COLD_BODIES
