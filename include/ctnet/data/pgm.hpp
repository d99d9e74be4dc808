// ctnet/data/pgm.hpp — decoder for grayscale Netpbm images: PGM P5 (binary) and P2 (ASCII), maxval <= 255.
//
// Requires: nothing beyond C++20. Guarantees: decode_pgm returns rows x cols pixels in [0, 1] (value / maxval),
// or throws ctnet::DataError naming `name` and what is wrong (truncated, bad token, value above maxval, bytes
// after the pixels). Limits: the image_max_pixels limit of image_common.hpp; the pixel count is checked
// against the bytes present (one per pixel for P5, two for P2) before the pixels are allocated.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "../core/compiled.hpp"
#include "image_common.hpp"

namespace ctnet {

// Decodes PGM (P5 or P2) bytes; `name` is used in messages.
CTNET_COLD GrayImage decode_pgm(const std::vector<std::uint8_t>& b, const std::string& name);

}  // namespace ctnet

#if CTNET_COLD_BODIES
#include <algorithm>

namespace ctnet {

namespace image_detail {

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

}  // namespace image_detail

// Decodes PGM (P5 or P2) bytes; `name` is used in messages.
CTNET_COLD GrayImage decode_pgm(const std::vector<std::uint8_t>& b, const std::string& name) {
  using namespace image_detail;
  if (b.size() < 2 || b[0] != 'P' || (b[1] != '5' && b[1] != '2'))
    throw DataError("'" + name + "': not a PGM file (P5 or P2)");
  const bool ascii = b[1] == '2';
  PgmTokens t(b, 2, name);
  const std::uint32_t cols = t.number("width"), rows = t.number("height"), maxval = t.number("maxval");
  check_size(rows, cols, name);
  if (maxval == 0 || maxval > 255)
    throw DataError("'" + name + "': PGM maxval " + std::to_string(maxval) + " is not supported (1..255 only)");
  const std::size_t n = std::size_t{rows} * cols;
  std::size_t& pos = t.pos();
  // The header's pixel count is never an allocation size by itself: P5 checks it against the bytes present
  // first, P2 reserves at most one pixel per two bytes left (a digit and a separator) and grows as values come.
  GrayImage img{static_cast<int>(rows), static_cast<int>(cols), {}};
  const float scale = 1.0f / static_cast<float>(maxval);
  auto check_value = [&](std::uint32_t v, std::size_t i) {
    if (v > maxval)
      throw DataError("'" + name + "': PGM pixel " + std::to_string(i) + " is " + std::to_string(v) +
                      ", above maxval " + std::to_string(maxval));
  };
  if (ascii) {
    img.pixels.reserve(std::min(n, (b.size() - pos + 1) / 2));
    for (std::size_t i = 0; i < n; ++i) {
      t.skip_space();
      if (pos >= b.size())
        throw DataError("'" + name + "': truncated PGM: " + std::to_string(n) + " pixels expected, found " +
                        std::to_string(i));
      const std::uint32_t v = t.number("pixel value");
      check_value(v, i);
      img.pixels.push_back(static_cast<float>(v) * scale);
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
    img.pixels.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      check_value(b[pos + i], i);
      img.pixels[i] = static_cast<float>(b[pos + i]) * scale;
    }
  }
  return img;
}

}  // namespace ctnet
#endif  // CTNET_COLD_BODIES
