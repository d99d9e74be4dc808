// ctnet/data/image_file.hpp — read one grayscale image (PGM or PNG) to classify, and resize it.
//
// Requires: zlib (link -lz) for PNG. Supported: PGM P5 (binary) and P2 (ASCII) with maxval <= 255; PNG,
// non-interlaced, bit depth 8, colour type gray, gray+alpha, RGB or RGBA.
// Guarantees: read_gray_image returns rows x cols pixels in [0, 1] (0 = black), or throws ctnet::DataError
// naming the path and what is wrong (missing, truncated, unsupported variant, corrupt data). Colour becomes
// luma (ITU-R 601: 0.299 R + 0.587 G + 0.114 B, as PIL's convert("L")); alpha is composited over white, so the
// result looks as the image does in a viewer. PNG CRCs are not checked; chunk lengths are checked against the
// file size. resize_bilinear is PIL's antialiased bilinear resampling (a triangle filter widened by the
// downscale factor), so shrinking a large photo averages instead of aliasing; same size is the identity.
#pragma once

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "../core/error.hpp"

namespace ctnet {

struct GrayImage {
  int rows = 0;
  int cols = 0;
  std::vector<float> pixels;  // rows x cols, row-major, in [0, 1]
};

namespace image_detail {

// Larger than any sane photo, small enough that a lying header cannot ask for gigabytes.
inline constexpr std::uint64_t max_pixels = std::uint64_t{1} << 26;

inline void check_size(std::uint64_t rows, std::uint64_t cols, const std::string& name) {
  if (rows == 0 || cols == 0 || rows * cols > max_pixels)
    throw DataError("'" + name + "': image size " + std::to_string(cols) + "x" + std::to_string(rows) +
                    " is zero or absurd");
}

inline std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

// Reads PGM header tokens: whitespace and '#' comments separate unsigned decimal numbers.
class PgmTokens {
 public:
  PgmTokens(const std::vector<std::uint8_t>& b, std::size_t pos, const std::string& name)
      : b_(b), pos_(pos), name_(name) {}

  std::uint32_t number(const char* what) {
    skip_space();
    if (pos_ >= b_.size()) throw DataError("'" + name_ + "': truncated PGM: missing " + what);
    if (b_[pos_] < '0' || b_[pos_] > '9')
      throw DataError("'" + name_ + "': bad PGM: expected " + what + " at byte " + std::to_string(pos_));
    std::uint64_t v = 0;
    while (pos_ < b_.size() && b_[pos_] >= '0' && b_[pos_] <= '9') {
      v = v * 10 + (b_[pos_++] - '0');
      if (v > 0xFFFFFFFFu) throw DataError("'" + name_ + "': bad PGM: " + what + " is too large");
    }
    return static_cast<std::uint32_t>(v);
  }
  void skip_space() {
    while (pos_ < b_.size()) {
      if (b_[pos_] == '#') {
        while (pos_ < b_.size() && b_[pos_] != '\n' && b_[pos_] != '\r') ++pos_;
      } else if (is_space(b_[pos_])) {
        ++pos_;
      } else {
        break;
      }
    }
  }
  static bool is_space(std::uint8_t c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
  }
  std::size_t& pos() { return pos_; }

 private:
  const std::vector<std::uint8_t>& b_;
  std::size_t pos_;
  const std::string& name_;
};

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

}  // namespace image_detail

// Decodes PGM (P5 or P2) bytes; `name` is used in messages.
inline GrayImage decode_pgm(const std::vector<std::uint8_t>& b, const std::string& name) {
  using namespace image_detail;
  if (b.size() < 2 || b[0] != 'P' || (b[1] != '5' && b[1] != '2'))
    throw DataError("'" + name + "': not a PGM file (P5 or P2)");
  const bool ascii = b[1] == '2';
  PgmTokens t(b, 2, name);
  const std::uint32_t cols = t.number("width"), rows = t.number("height"), maxval = t.number("maxval");
  check_size(rows, cols, name);
  if (maxval == 0 || maxval > 255)
    throw DataError("'" + name + "': PGM maxval " + std::to_string(maxval) + " is not supported (1..255 only)");
  GrayImage img{static_cast<int>(rows), static_cast<int>(cols), {}};
  const std::size_t n = std::size_t{rows} * cols;
  img.pixels.resize(n);
  const float scale = 1.0f / static_cast<float>(maxval);
  std::size_t& pos = t.pos();
  auto check_value = [&](std::uint32_t v, std::size_t i) {
    if (v > maxval)
      throw DataError("'" + name + "': PGM pixel " + std::to_string(i) + " is " + std::to_string(v) +
                      ", above maxval " + std::to_string(maxval));
  };
  if (ascii) {
    for (std::size_t i = 0; i < n; ++i) {
      t.skip_space();
      if (pos >= b.size())
        throw DataError("'" + name + "': truncated PGM: " + std::to_string(n) + " pixels expected, found " +
                        std::to_string(i));
      const std::uint32_t v = t.number("pixel value");
      check_value(v, i);
      img.pixels[i] = static_cast<float>(v) * scale;
    }
    t.skip_space();
    if (pos < b.size())
      throw DataError("'" + name + "': unexpected bytes after the PGM pixels at byte " + std::to_string(pos));
  } else {
    // Exactly one whitespace byte separates maxval from the binary pixels.
    if (pos >= b.size() || !PgmTokens::is_space(b[pos])) throw DataError("'" + name + "': truncated PGM header");
    ++pos;
    if (b.size() - pos < n)
      throw DataError("'" + name + "': truncated PGM: " + std::to_string(n) + " pixel bytes expected, found " +
                      std::to_string(b.size() - pos));
    for (std::size_t i = 0; i < n; ++i) {
      check_value(b[pos + i], i);
      img.pixels[i] = static_cast<float>(b[pos + i]) * scale;
    }
  }
  return img;
}

// Decodes PNG bytes (see the header comment for the variants supported); `name` is used in messages.
inline GrayImage decode_png(const std::vector<std::uint8_t>& b, const std::string& name) {
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
  std::vector<std::uint8_t> raw((stride + 1) * height);
  z_stream zs{};
  if (inflateInit(&zs) != Z_OK) throw DataError("'" + name + "': zlib initialisation failed");
  zs.next_in = compressed.data();
  zs.avail_in = static_cast<uInt>(compressed.size());
  zs.next_out = raw.data();
  zs.avail_out = static_cast<uInt>(raw.size());
  const int rc = inflate(&zs, Z_FINISH);
  const std::string zmsg = zs.msg ? zs.msg : "";
  const std::size_t produced = raw.size() - zs.avail_out;
  inflateEnd(&zs);
  if (rc == Z_DATA_ERROR) throw DataError("'" + name + "': corrupt PNG image data (" + zmsg + ")");
  if (rc != Z_STREAM_END) {
    throw DataError("'" + name + "': PNG image data " +
                    (produced < raw.size()
                         ? "ends early: " + std::to_string(produced) + " of " + std::to_string(raw.size()) + " bytes"
                         : std::string("holds more than the ") + std::to_string(raw.size()) + " bytes a " +
                               std::to_string(width) + "x" + std::to_string(height) + " image needs"));
  }
  if (produced != raw.size())
    throw DataError("'" + name + "': PNG image data ends early: " + std::to_string(produced) + " of " +
                    std::to_string(raw.size()) + " bytes");

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

// Reads a PGM or PNG file, recognised by its first bytes.
inline GrayImage read_gray_image(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError("cannot open image '" + path + "'");
  const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() >= 2 && bytes[0] == 0x89 && bytes[1] == 'P') return decode_png(bytes, path);
  if (bytes.size() >= 2 && bytes[0] == 'P' && (bytes[1] == '5' || bytes[1] == '2')) return decode_pgm(bytes, path);
  if (bytes.size() >= 2 && bytes[0] == 'P' && bytes[1] >= '1' && bytes[1] <= '7')
    throw DataError("'" + path + "': Netpbm format P" + std::string(1, static_cast<char>(bytes[1])) +
                    " is not supported (grayscale PGM P5/P2 only)");
  throw DataError("'" + path + "': not a PGM or PNG image" + (bytes.empty() ? std::string(" (empty file)") : ""));
}

// Resamples to rows x cols with PIL's antialiased bilinear (triangle) filter, one axis at a time.
inline GrayImage resize_bilinear(const GrayImage& img, int rows, int cols) {
  if (rows < 1 || cols < 1 || img.rows < 1 || img.cols < 1 ||
      img.pixels.size() != static_cast<std::size_t>(img.rows) * static_cast<std::size_t>(img.cols))
    throw Error("resize_bilinear: bad sizes (" + std::to_string(img.cols) + "x" + std::to_string(img.rows) + " to " +
                std::to_string(cols) + "x" + std::to_string(rows) + ")");
  if (rows == img.rows && cols == img.cols) return img;
  // One axis's filter: output i = sum over k of weights[i][k] * input[first[i] + k].
  struct Axis {
    std::vector<std::size_t> first;
    std::vector<std::vector<float>> weights;
  };
  auto make_axis = [](int in_size, int out_size) {
    Axis ax;
    const double scale = static_cast<double>(in_size) / out_size, support = std::max(scale, 1.0);
    for (int i = 0; i < out_size; ++i) {
      const double centre = (i + 0.5) * scale;
      const int lo = std::max(0, static_cast<int>(std::floor(centre - support)));
      const int hi = std::min(in_size, static_cast<int>(std::ceil(centre + support)));
      std::vector<double> w;
      double total = 0.0;
      for (int j = lo; j < hi; ++j) {
        const double t = std::abs((j + 0.5 - centre) / support);
        w.push_back(t < 1.0 ? 1.0 - t : 0.0);
        total += w.back();
      }
      // Normalising per output keeps edges (where taps fall outside) at full brightness, as PIL does.
      std::vector<float> wf;
      for (double v : w) wf.push_back(static_cast<float>(total > 0.0 ? v / total : 0.0));
      ax.first.push_back(static_cast<std::size_t>(lo));
      ax.weights.push_back(std::move(wf));
    }
    return ax;
  };
  const std::size_t in_cols = static_cast<std::size_t>(img.cols), in_rows = static_cast<std::size_t>(img.rows);
  const std::size_t out_cols = static_cast<std::size_t>(cols), out_rows = static_cast<std::size_t>(rows);
  const Axis ax = make_axis(img.cols, cols), ay = make_axis(img.rows, rows);
  std::vector<float> tmp(in_rows * out_cols);  // horizontal pass
  for (std::size_t y = 0; y < in_rows; ++y) {
    for (std::size_t x = 0; x < out_cols; ++x) {
      const float* src = &img.pixels[y * in_cols + ax.first[x]];
      float s = 0.0f;
      for (std::size_t k = 0; k < ax.weights[x].size(); ++k) s += ax.weights[x][k] * src[k];
      tmp[y * out_cols + x] = s;
    }
  }
  GrayImage out{rows, cols, std::vector<float>(out_rows * out_cols)};
  for (std::size_t y = 0; y < out_rows; ++y) {
    for (std::size_t x = 0; x < out_cols; ++x) {
      float s = 0.0f;
      for (std::size_t k = 0; k < ay.weights[y].size(); ++k)
        s += ay.weights[y][k] * tmp[(ay.first[y] + k) * out_cols + x];
      out.pixels[y * out_cols + x] = s;
    }
  }
  return out;
}

// The usual path for classification: read, then resize to rows x cols (28 x 28 for MNIST) if it differs.
inline GrayImage read_gray_image_resized(const std::string& path, int rows = 28, int cols = 28) {
  return resize_bilinear(read_gray_image(path), rows, cols);
}

}  // namespace ctnet
