// ctnet/data/idx.hpp — reader for IDX files (the MNIST container format), raw or gzip-compressed.
//
// Requires: zlib (link -lz). Only the unsigned-byte element type (0x08) is supported.
// Guarantees: read_idx returns the dimensions and all element bytes of a well-formed file, or throws
// ctnet::DataError whose message names the path and what is wrong: missing or unreadable file, a directory,
// wrong magic, unsupported type code, zero or absurd dimensions, truncation (expected vs actual byte count),
// trailing bytes, or gzip corruption. A file starting with the gzip magic (1f 8b) is decompressed whatever its
// name; when `path` does not exist but `path + ".gz"` does, that file is read instead.
// Limits (hostile files): at most 2^32 elements (idx_max_elements) and rank 16. The header's element count is
// a bound, never an allocation size: a raw file's size is compared with it before anything is allocated, and
// a gzip file's buffer grows (from 1 MiB, doubling) only as decompressed bytes arrive, so memory stays under
// 3x the bytes actually decompressed plus 1 MiB (a 21-byte gzip claiming 1 GiB costs 1 MiB, then an error).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "../core/compiled.hpp"
#include "../core/error.hpp"

namespace ctnet {

struct IdxArray {
  std::vector<int> dims;            // outermost first, e.g. {60000, 28, 28}
  std::vector<std::uint8_t> bytes;  // row-major, product(dims) elements
  std::size_t element_count() const { return bytes.size(); }
};

// Well above any real data set (MNIST train images are 47 MB); the count is checked before any allocation.
inline constexpr std::uint64_t idx_max_elements = std::uint64_t{1} << 32;

// Reads an IDX file of unsigned bytes. See the header comment for the errors it reports.
CTNET_COLD IdxArray read_idx(const std::string& path);

}  // namespace ctnet

#if CTNET_COLD_BODIES
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <system_error>

namespace ctnet {

namespace idx_detail {

inline constexpr std::uint64_t max_elements = idx_max_elements;
inline constexpr int max_rank = 16;
// The first allocation for the data; it doubles from here as bytes actually arrive.
inline constexpr std::size_t first_chunk = std::size_t{1} << 20;

inline std::string hex_bytes(const std::uint8_t* p, std::size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    if (i) s += ' ';
    s += digits[p[i] >> 4];
    s += digits[p[i] & 15];
  }
  return s;
}

inline const char* idx_type_name(std::uint8_t code) {
  switch (code) {
    case 0x08:
      return "unsigned byte";
    case 0x09:
      return "signed byte";
    case 0x0B:
      return "int16";
    case 0x0C:
      return "int32";
    case 0x0D:
      return "float32";
    case 0x0E:
      return "float64";
    default:
      return "unknown";
  }
}

// A byte stream over a raw or gzip file; read() returns fewer bytes than asked only at the end of the data.
class ByteSource {
 public:
  explicit ByteSource(const std::string& path) : path_(path), in_(path, std::ios::binary) {
    if (!in_) {
      const int err = errno;
      throw DataError("cannot open '" + path + "'" +
                      (err ? ": " + std::generic_category().message(err) : std::string()));
    }
    std::uint8_t magic[2] = {0, 0};
    in_.read(reinterpret_cast<char*>(magic), 2);
    const std::streamsize got = in_.gcount();
    in_.clear();
    in_.seekg(0);
    gzip_ = got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    if (gzip_) {
      zs_ = z_stream{};
      // 16 + MAX_WBITS: gzip wrapper only, so zlib checks the member's CRC-32 and length trailer.
      if (inflateInit2(&zs_, 16 + MAX_WBITS) != Z_OK) throw DataError("'" + path + "': zlib initialisation failed");
      in_buf_.resize(1 << 16);
      inflating_ = true;
    }
  }
  ~ByteSource() {
    if (gzip_) inflateEnd(&zs_);
  }
  ByteSource(const ByteSource&) = delete;
  ByteSource& operator=(const ByteSource&) = delete;

  bool is_gzip() const { return gzip_; }
  // True once a gzip stream was found to end inside a member (a truncated .gz file).
  bool truncated() const { return truncated_; }

  std::size_t read(std::uint8_t* dst, std::size_t n) {
    if (!gzip_) {
      in_.read(reinterpret_cast<char*>(dst), static_cast<std::streamsize>(n));
      return static_cast<std::size_t>(in_.gcount());
    }
    std::size_t done = 0;
    while (done < n) {
      // avail_out is 32-bit; ask for at most 1 GiB per inflate call.
      const std::size_t chunk = std::min<std::size_t>(n - done, std::size_t{1} << 30);
      const std::size_t got = inflate_some(dst + done, chunk);
      if (got == 0) break;
      done += got;
    }
    return done;
  }

 private:
  bool refill() {
    in_.read(reinterpret_cast<char*>(in_buf_.data()), static_cast<std::streamsize>(in_buf_.size()));
    zs_.next_in = in_buf_.data();
    zs_.avail_in = static_cast<uInt>(in_.gcount());
    return zs_.avail_in > 0;
  }

  std::size_t inflate_some(std::uint8_t* dst, std::size_t n) {
    zs_.next_out = dst;
    zs_.avail_out = static_cast<uInt>(n);
    while (zs_.avail_out > 0 && !finished_) {
      if (zs_.avail_in == 0 && !refill()) {
        finished_ = true;
        if (inflating_ && member_ > 0 && zs_.total_out == 0) throw trailing_garbage("end of file");
        truncated_ = inflating_;
        break;
      }
      if (!inflating_) {
        // More input after a complete member: gzip allows concatenated members; anything else is garbage.
        inflateReset(&zs_);
        inflating_ = true;
        ++member_;
      }
      const int rc = inflate(&zs_, Z_NO_FLUSH);
      if (rc == Z_STREAM_END) {
        inflating_ = false;
      } else if (rc == Z_DATA_ERROR) {
        const std::string why = zs_.msg ? zs_.msg : "invalid data";
        if (member_ > 0 && zs_.total_out == 0) throw trailing_garbage(why);
        throw DataError("'" + path_ + "': corrupt gzip data (" + why + ")");
      } else if (rc == Z_MEM_ERROR) {
        throw DataError("'" + path_ + "': out of memory while decompressing");
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        throw DataError("'" + path_ + "': zlib error " + std::to_string(rc));
      }
    }
    return n - zs_.avail_out;
  }

  DataError trailing_garbage(const std::string& why) const {
    return DataError("'" + path_ + "': unexpected bytes after the end of the gzip stream (" + why + ")");
  }

  std::string path_;
  std::ifstream in_;
  bool gzip_ = false;
  z_stream zs_{};
  std::vector<std::uint8_t> in_buf_;
  bool inflating_ = false;  // inside a gzip member that has not reached its trailer
  bool finished_ = false;
  bool truncated_ = false;
  int member_ = 0;
};

}  // namespace idx_detail

CTNET_COLD IdxArray read_idx(const std::string& path) {
  namespace fs = std::filesystem;
  using namespace idx_detail;
  std::error_code ec;
  std::string file = path;
  if (!fs::exists(file, ec)) {
    if (fs::exists(path + ".gz", ec)) {
      file = path + ".gz";
    } else {
      throw DataError("IDX file '" + path + "' not found (nor '" + path + ".gz')");
    }
  }
  if (fs::is_directory(file, ec)) throw DataError("'" + file + "' is a directory, not an IDX file");

  ByteSource src(file);
  std::uint8_t magic[4];
  const std::size_t got_magic = src.read(magic, 4);
  if (got_magic < 4)
    throw DataError("'" + file + "': file too short for an IDX header (" + std::to_string(got_magic) + " bytes)");
  if (magic[0] != 0 || magic[1] != 0) {
    throw DataError("'" + file + "': wrong magic number: found " + hex_bytes(magic, 4) +
                    ", expected 00 00 08 <rank> (an IDX file of unsigned bytes)");
  }
  if (magic[2] != 0x08) {
    throw DataError("'" + file + "': unsupported IDX element type 0x" + hex_bytes(magic + 2, 1) + " (" +
                    idx_type_name(magic[2]) + "); only 0x08 (unsigned byte) is supported");
  }
  const int rank = magic[3];
  if (rank < 1 || rank > max_rank) {
    throw DataError("'" + file + "': IDX rank " + std::to_string(rank) + " is out of range [1, " +
                    std::to_string(max_rank) + "]");
  }

  std::vector<std::uint8_t> header(static_cast<std::size_t>(rank) * 4);
  const std::size_t got_header = src.read(header.data(), header.size());
  if (got_header < header.size()) {
    throw DataError("'" + file + "': truncated header: " + std::to_string(rank) + " dimensions need " +
                    std::to_string(header.size()) + " bytes, found " + std::to_string(got_header));
  }
  IdxArray out;
  out.dims.resize(static_cast<std::size_t>(rank));
  std::uint64_t count = 1;
  std::string dims_text;
  for (int d = 0; d < rank; ++d) {
    const std::uint8_t* p = header.data() + 4 * d;
    const std::uint32_t v =
        (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
    dims_text.append(d ? "x" : "").append(std::to_string(v));
    if (v == 0) throw DataError("'" + file + "': dimension " + std::to_string(d) + " is zero");
    if (v > static_cast<std::uint32_t>(std::numeric_limits<int>::max()) || count * v > max_elements) {
      throw DataError("'" + file + "': absurd dimensions (dimension " + std::to_string(d) + " = " + std::to_string(v) +
                      "; more than " + std::to_string(max_elements) + " elements in all)");
    }
    count *= v;
    out.dims[static_cast<std::size_t>(d)] = static_cast<int>(v);
  }

  const std::uint64_t header_bytes = 4 + header.size();
  if (!src.is_gzip()) {
    // Size check before allocating, so a lying header cannot cost a large allocation.
    const std::uint64_t size = fs::file_size(file, ec);
    if (!ec && size < header_bytes + count) {
      throw DataError("'" + file + "': truncated: dimensions " + dims_text + " need " + std::to_string(count) +
                      " data bytes, found " + std::to_string(size - header_bytes));
    }
  }
  // The claim bounds the buffer but never sizes it: grow only as bytes arrive, so a short (or truncated
  // gzip) file claiming gigabytes costs one small chunk before the truncation error.
  std::size_t got = 0;
  out.bytes.resize(static_cast<std::size_t>(std::min<std::uint64_t>(count, first_chunk)));
  for (;;) {
    got += src.read(out.bytes.data() + got, out.bytes.size() - got);
    if (got < out.bytes.size() || got == count) break;
    out.bytes.resize(static_cast<std::size_t>(std::min<std::uint64_t>(count, std::uint64_t{got} * 2)));
  }
  if (got < count) {
    throw DataError("'" + file + "': truncated" + (src.truncated() ? " (the gzip stream ends early)" : "") +
                    ": dimensions " + dims_text + " need " + std::to_string(count) + " data bytes, found " +
                    std::to_string(got));
  }
  // Count (up to a bound) what follows the data, so the message can say how much is there.
  std::uint8_t extra[4096];
  std::uint64_t trailing = 0;
  while (trailing < (std::uint64_t{1} << 24)) {
    const std::size_t n = src.read(extra, sizeof extra);
    if (n == 0) break;
    trailing += n;
  }
  if (src.truncated()) {
    throw DataError("'" + file + "': the gzip stream ends early (compressed file truncated after the data?)");
  }
  if (trailing > 0) {
    throw DataError("'" + file + "': " + std::to_string(trailing) + " trailing bytes after the " +
                    std::to_string(count) + " data bytes of dimensions " + dims_text);
  }
  return out;
}

}  // namespace ctnet
#endif  // CTNET_COLD_BODIES
