// ctnet/data/png.hpp — decoder for 8-bit non-interlaced PNG images (gray, gray+alpha, RGB, RGBA) to gray.
//
// Requires: zlib (link -lz). Guarantees: decode_png returns rows x cols pixels in [0, 1] (0 = black), or throws
// ctnet::DataError naming `name` and what is wrong (truncated, unsupported variant, corrupt data). Colour becomes
// luma (ITU-R 601: 0.299 R + 0.587 G + 0.114 B, as PIL's convert("L")); alpha is composited over white, so the
// result looks as the image does in a viewer. CRCs are not checked; chunk lengths are checked against the data.
// Limits: the image_max_pixels limit of image_common.hpp, checked when IHDR is read. The decompressed rows are
// never allocated from IHDR's claim: their buffer starts at 1 MiB and doubles only as zlib produces bytes, so a
// tiny file claiming 8192 x 8192 RGBA costs 1 MiB and an "ends early" error, not 256 MiB.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "../core/compiled.hpp"
#include "image_common.hpp"

namespace ctnet {

// Decodes PNG bytes (see the header comment for the variants supported); `name` is used in messages.
CTNET_COLD GrayImage decode_png(const std::vector<std::uint8_t>& b, const std::string& name);

}  // namespace ctnet

#if CTNET_COLD_BODIES
#include <zlib.h>
#include <algorithm>
#include <cstdlib>

namespace ctnet {

namespace image_detail {

// Paeth predictor (PNG spec, section 9.4).
inline int paeth(int a, int b, int c) {
  const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  return (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c);
}

inline float to_gray(const std::uint8_t* px, int channels) {
  auto luma = [](const std::uint8_t* p) {
    return (299.0f * p[0] + 587.0f * p[1] + 114.0f * p[2]) / (1000.0f * 255.0f);
  };
  switch (channels) {
    case 1:
      return px[0] / 255.0f;
    case 2: {
      const float a = px[1] / 255.0f;
      return px[0] / 255.0f * a + (1.0f - a);
    }
    case 3:
      return luma(px);
    default: {
      const float a = px[3] / 255.0f;
      return luma(px) * a + (1.0f - a);
    }
  }
}

// Inflates `in` into `raw`, growing it as bytes come (at most `expected`), and returns the bytes produced.
inline std::size_t inflate_grow(const std::vector<std::uint8_t>& in, std::vector<std::uint8_t>& raw,
                                std::size_t expected, std::uint32_t width, std::uint32_t height,
                                const std::string& name) {
  z_stream zs{};
  if (inflateInit(&zs) != Z_OK) throw DataError("'" + name + "': zlib initialisation failed");
  zs.next_in = const_cast<std::uint8_t*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());  // at most image_max_file_bytes
  // One extra byte past `expected` tells "exactly the image" from "more data than the image needs".
  const std::size_t limit = expected + 1;
  raw.resize(std::min<std::size_t>(limit, std::size_t{1} << 20));
  std::size_t produced = 0;
  int rc = Z_OK;
  for (;;) {
    zs.next_out = raw.data() + produced;
    zs.avail_out = static_cast<uInt>(raw.size() - produced);
    rc = inflate(&zs, Z_NO_FLUSH);
    produced = raw.size() - zs.avail_out;
    if (rc != Z_OK || produced == limit) break;
    if (zs.avail_out == 0) {
      raw.resize(std::min(limit, raw.size() * 2));
    } else if (zs.avail_in == 0) {
      break;  // all input used, the stream not finished
    }
  }
  const std::string zmsg = zs.msg ? zs.msg : "";
  inflateEnd(&zs);
  if (rc == Z_DATA_ERROR) throw DataError("'" + name + "': corrupt PNG image data (" + zmsg + ")");
  if (produced > expected)
    throw DataError("'" + name + "': PNG image data holds more than the " + std::to_string(expected) +
                    " bytes a " + std::to_string(width) + "x" + std::to_string(height) + " image needs");
  if (rc != Z_STREAM_END && rc != Z_OK && rc != Z_BUF_ERROR)
    throw DataError("'" + name + "': zlib error " + std::to_string(rc) + " in PNG image data");
  if (rc != Z_STREAM_END)
    throw DataError("'" + name + "': PNG image data ends early: " + std::to_string(produced) + " of " +
                    std::to_string(expected) + " bytes");
  return produced;
}

}  // namespace image_detail

// Decodes PNG bytes (see the header comment for the variants supported); `name` is used in messages.
CTNET_COLD GrayImage decode_png(const std::vector<std::uint8_t>& b, const std::string& name) {
  using namespace image_detail;
  static const std::uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (b.size() < 8 && std::equal(b.begin(), b.end(), signature))
    throw DataError("'" + name + "': truncated PNG: only " + std::to_string(b.size()) + " bytes");
  if (b.size() < 8 || !std::equal(signature, signature + 8, b.begin()))
    throw DataError("'" + name + "': not a PNG file (bad signature)");
  std::uint32_t width = 0, height = 0;
  int channels = 0;
  bool have_header = false, have_end = false;
  std::vector<std::uint8_t> compressed;
  for (std::size_t pos = 8; !have_end;) {
    if (b.size() - pos < 12)
      throw DataError(
          "'" + name + "': truncated PNG: " +
          (pos == b.size() ? std::string("no IEND chunk") : "incomplete chunk header at byte " + std::to_string(pos)));
    const std::uint32_t length = be32(&b[pos]);
    const std::string type(reinterpret_cast<const char*>(&b[pos + 4]), 4);
    if (length > 0x7FFFFFFFu || length > b.size() - pos - 12)
      throw DataError("'" + name + "': truncated PNG: chunk '" + type + "' at byte " + std::to_string(pos) +
                      " declares " + std::to_string(length) + " data bytes but only " +
                      std::to_string(b.size() - pos - 12) + " remain");
    const std::uint8_t* data = &b[pos + 8];
    if (!have_header && type != "IHDR")
      throw DataError("'" + name + "': bad PNG: the first chunk is '" + type + "', not IHDR");
    if (type == "IHDR") {
      if (length != 13)
        throw DataError("'" + name + "': bad PNG: IHDR has " + std::to_string(length) + " bytes, not 13");
      width = be32(data);
      height = be32(data + 4);
      const int depth = data[8], colour = data[9], interlace = data[12];
      check_size(height, width, name);
      if (data[10] != 0 || data[11] != 0)
        throw DataError("'" + name + "': bad PNG: unknown compression or filter method");
      if (interlace != 0) throw DataError("'" + name + "': interlaced PNG is not supported; save it non-interlaced");
      switch (colour) {
        case 0:
          channels = 1;
          break;
        case 4:
          channels = 2;
          break;
        case 2:
          channels = 3;
          break;
        case 6:
          channels = 4;
          break;
        case 3:
          throw DataError("'" + name + "': palette PNG (colour type 3) is not supported; save it as gray or RGB");
        default:
          throw DataError("'" + name + "': bad PNG colour type " + std::to_string(colour));
      }
      if (depth != 8)
        throw DataError("'" + name + "': PNG bit depth " + std::to_string(depth) + " is not supported (8 only)");
      have_header = true;
    } else if (type == "IDAT") {
      compressed.insert(compressed.end(), data, data + length);
    } else if (type == "IEND") {
      have_end = true;
    } else if (type[0] >= 'A' && type[0] <= 'Z' && type != "PLTE") {
      // An unknown critical chunk changes how the image must be read (PNG spec 5.4): refuse it.
      throw DataError("'" + name + "': PNG has an unknown critical chunk '" + type + "'");
    }
    pos += 12 + std::size_t{length};
  }
  if (compressed.empty()) throw DataError("'" + name + "': PNG has no image data (IDAT)");

  const std::size_t stride = std::size_t{width} * static_cast<std::size_t>(channels);
  const std::size_t expected = (stride + 1) * height;
  std::vector<std::uint8_t> raw;
  const std::size_t produced = inflate_grow(compressed, raw, expected, width, height, name);
  if (produced != expected)
    throw DataError("'" + name + "': PNG image data ends early: " + std::to_string(produced) + " of " +
                    std::to_string(expected) + " bytes");

  // Undo the per-row filters in place (PNG spec, section 9), then convert each pixel to gray.
  GrayImage img{static_cast<int>(height), static_cast<int>(width), {}};
  img.pixels.resize(std::size_t{width} * height);
  const std::size_t bpp = static_cast<std::size_t>(channels);
  for (std::size_t y = 0; y < height; ++y) {
    std::uint8_t* row = &raw[y * (stride + 1)];
    const std::uint8_t filter = row[0];
    std::uint8_t* cur = row + 1;
    const std::uint8_t* up = y > 0 ? &raw[(y - 1) * (stride + 1) + 1] : nullptr;
    if (filter > 4)
      throw DataError("'" + name + "': corrupt PNG: row " + std::to_string(y) + " has filter type " +
                      std::to_string(filter));
    for (std::size_t i = 0; i < stride; ++i) {
      const int a = i >= bpp ? cur[i - bpp] : 0, u = up ? up[i] : 0, c = (up && i >= bpp) ? up[i - bpp] : 0;
      int pred = 0;
      switch (filter) {
        case 1:
          pred = a;
          break;
        case 2:
          pred = u;
          break;
        case 3:
          pred = (a + u) / 2;
          break;
        case 4:
          pred = paeth(a, u, c);
          break;
        default:
          break;
      }
      cur[i] = static_cast<std::uint8_t>(cur[i] + pred);
    }
    for (std::size_t x = 0; x < width; ++x) img.pixels[y * width + x] = to_gray(cur + x * bpp, channels);
  }
  return img;
}

}  // namespace ctnet
#endif  // CTNET_COLD_BODIES
