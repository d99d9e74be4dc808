// ctnet/data/image_common.hpp — what the image decoders share: GrayImage, the size limits, file reading.
//
// Requires: nothing beyond C++20. Guarantees: read_image_file_bytes returns a file's bytes or throws
// ctnet::DataError naming the path and the reason (missing, unreadable, a directory, larger than the limit);
// it never throws std::ios_base::failure or std::bad_alloc for a hostile file.
// Limits (hostile files): an image file is at most image_max_file_bytes (1 GiB) and an image at most
// image_max_pixels (2^26, e.g. 8192 x 8192) pixels; both are checked before anything of that size is
// allocated, so a header claiming a huge image costs nothing but its error.
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "../core/compiled.hpp"
#include "../core/error.hpp"

namespace ctnet {

struct GrayImage {
  int rows = 0;
  int cols = 0;
  std::vector<float> pixels;  // rows x cols, row-major, in [0, 1]
};

// Larger than any sane photo, small enough that a lying header cannot ask for gigabytes.
inline constexpr std::uint64_t image_max_pixels = std::uint64_t{1} << 26;
// A PGM P2 of image_max_pixels pixels at four bytes per value is 256 MiB; four times that leaves room for
// comments and for PNGs that compress badly.
inline constexpr std::uint64_t image_max_file_bytes = std::uint64_t{1} << 30;

namespace image_detail {

inline constexpr std::uint64_t max_pixels = image_max_pixels;

inline void check_size(std::uint64_t rows, std::uint64_t cols, const std::string& name) {
  if (rows == 0 || cols == 0 || rows > max_pixels || cols > max_pixels || rows * cols > max_pixels)
    throw DataError("'" + name + "': image size " + std::to_string(cols) + "x" + std::to_string(rows) +
                    " is zero or absurd (the limit is " + std::to_string(max_pixels) + " pixels)");
}

inline std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

inline std::string errno_text(int err) { return std::generic_category().message(err); }

// Closes the FILE on every path out, exceptions included.
struct FileCloser {
  std::FILE* f = nullptr;
  ~FileCloser() {
    if (f) std::fclose(f);
  }
};

}  // namespace image_detail

// The whole file, read with stdio (an ifstream read through istreambuf_iterator throws
// std::ios_base::failure on a directory).
CTNET_COLD std::vector<std::uint8_t> read_image_file_bytes(const std::string& path);

}  // namespace ctnet

#if CTNET_COLD_BODIES
namespace ctnet {

CTNET_COLD std::vector<std::uint8_t> read_image_file_bytes(const std::string& path) {
  constexpr std::uint64_t max_bytes = image_max_file_bytes;
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st))
    throw DataError("cannot open image '" + path + "': " +
                    (ec ? ec.message() : image_detail::errno_text(ENOENT)));
  if (fs::is_directory(st)) throw DataError("'" + path + "' is a directory, not an image file");
  if (fs::is_regular_file(st)) {
    const std::uintmax_t size = fs::file_size(path, ec);
    if (!ec && size > max_bytes)
      throw DataError("'" + path + "': " + std::to_string(size) + " bytes is larger than the " +
                      std::to_string(max_bytes) + "-byte limit for an image file");
  }
  image_detail::FileCloser file{std::fopen(path.c_str(), "rb")};
  if (!file.f)
    throw DataError("cannot open image '" + path + "': " + image_detail::errno_text(errno));
  std::vector<std::uint8_t> bytes;
  // Grown as bytes arrive: a pipe or device has no size to check up front.
  std::uint8_t buf[1 << 16];
  for (;;) {
    const std::size_t n = std::fread(buf, 1, sizeof buf, file.f);
    if (n > 0) {
      if (bytes.size() + n > max_bytes)
        throw DataError("'" + path + "': more than the " + std::to_string(max_bytes) + "-byte limit for an image file");
      bytes.insert(bytes.end(), buf, buf + n);
    }
    if (n < sizeof buf) break;
  }
  if (std::ferror(file.f))
    throw DataError("error reading image '" + path + "': " + image_detail::errno_text(errno));
  return bytes;
}

}  // namespace ctnet
#endif  // CTNET_COLD_BODIES
