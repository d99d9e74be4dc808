// ctnet/data/image_file.hpp — read one grayscale image (PGM or PNG) to classify, and resize it.
//
// Requires: zlib (link -lz) for PNG. Supported: PGM P5 (binary) and P2 (ASCII) with maxval <= 255 (pgm.hpp);
// PNG, non-interlaced, bit depth 8, colour type gray, gray+alpha, RGB or RGBA (png.hpp).
// Guarantees: read_gray_image returns rows x cols pixels in [0, 1] (0 = black), or throws ctnet::DataError
// naming the path and what is wrong (missing, unreadable, a directory, truncated, unsupported variant, corrupt
// data, too large); the format is recognised by the first bytes, not the name. read_gray_image_resized then
// resamples (image_resize.hpp).
// Limits (hostile files, image_common.hpp): files of at most image_max_file_bytes (1 GiB), images of at most
// image_max_pixels (2^26) pixels, both checked before allocating; decompressed PNG data is buffered only as it
// arrives. Peak memory: the file, a copy of a PNG's IDAT data, the decompressed rows (at most 4 bytes per pixel
// and 1 per row, and never more than twice what zlib produced) and 4 bytes per output pixel.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "../core/compiled.hpp"
#include "../core/error.hpp"
#include "image_common.hpp"
#include "image_resize.hpp"
#include "pgm.hpp"
#include "png.hpp"

namespace ctnet {

// Decodes PGM or PNG bytes, recognised by their first bytes; `path` is used in messages.
CTNET_COLD GrayImage decode_gray_image(const std::vector<std::uint8_t>& bytes, const std::string& path);

// Reads a PGM or PNG file, recognised by its first bytes.
inline GrayImage read_gray_image(const std::string& path) {
  return decode_gray_image(read_image_file_bytes(path), path);
}

// The usual path for classification: read, then resize to rows x cols (28 x 28 for MNIST) if it differs.
inline GrayImage read_gray_image_resized(const std::string& path, int rows = 28, int cols = 28) {
  return resize_bilinear(read_gray_image(path), rows, cols);
}

}  // namespace ctnet

#if CTNET_COLD_BODIES
namespace ctnet {

CTNET_COLD GrayImage decode_gray_image(const std::vector<std::uint8_t>& bytes, const std::string& path) {
  if (bytes.size() >= 2 && bytes[0] == 0x89 && bytes[1] == 'P') return decode_png(bytes, path);
  if (bytes.size() >= 2 && bytes[0] == 'P' && (bytes[1] == '5' || bytes[1] == '2')) return decode_pgm(bytes, path);
  if (bytes.size() >= 2 && bytes[0] == 'P' && bytes[1] >= '1' && bytes[1] <= '7')
    throw DataError("'" + path + "': Netpbm format P" + std::string(1, static_cast<char>(bytes[1])) +
                    " is not supported (grayscale PGM P5/P2 only)");
  throw DataError("'" + path + "': not a PGM or PNG image" + (bytes.empty() ? std::string(" (empty file)") : ""));
}

}  // namespace ctnet
#endif  // CTNET_COLD_BODIES
