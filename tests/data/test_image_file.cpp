// Tests for ctnet/data/image_file.hpp: PGM (P5/P2) and PNG decoding, errors, resizing. The PNGs are built
// here with zlib (compress2, crc32) and hand-written chunks, using every PNG row filter.
#include <doctest/doctest.h>
#include <unistd.h>
#include <zlib.h>

#include <cmath>
#include <ctnet/data/image_file.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "support/memory_limit.hpp"

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    static int counter = 0;
    path =
        fs::temp_directory_path() / ("ctnet_test_img_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

void write_file(const std::string& path, const Bytes& b) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  REQUIRE(out.good());
}

Bytes text(const std::string& s) { return Bytes(s.begin(), s.end()); }

void put32(Bytes& b, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<std::uint8_t>(v >> s));
}

void chunk(Bytes& png, const std::string& type, const Bytes& data) {
  put32(png, static_cast<std::uint32_t>(data.size()));
  Bytes body(type.begin(), type.end());
  body.insert(body.end(), data.begin(), data.end());
  png.insert(png.end(), body.begin(), body.end());
  put32(png, static_cast<std::uint32_t>(crc32(0, body.data(), static_cast<uInt>(body.size()))));
}

int paeth(int a, int b, int c) {
  const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  return (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c);
}

// An 8-bit non-interlaced PNG of `pixels` (rows x cols x channels); row y uses filter y % 5.
Bytes make_png(int rows, int cols, int colour_type, const Bytes& pixels, int depth = 8, int interlace = 0) {
  const int channels = colour_type == 0 ? 1 : colour_type == 4 ? 2 : colour_type == 2 ? 3 : colour_type == 6 ? 4 : 1;
  const std::size_t stride = static_cast<std::size_t>(cols * channels);
  Bytes filtered;
  for (int y = 0; y < rows; ++y) {
    const int filter = y % 5;
    filtered.push_back(static_cast<std::uint8_t>(filter));
    const std::uint8_t* cur = &pixels[static_cast<std::size_t>(y) * stride];
    const std::uint8_t* up = y > 0 ? cur - stride : nullptr;
    for (std::size_t i = 0; i < stride; ++i) {
      const int a = i >= static_cast<std::size_t>(channels) ? cur[i - static_cast<std::size_t>(channels)] : 0;
      const int u = up ? up[i] : 0;
      const int c = (up && i >= static_cast<std::size_t>(channels)) ? up[i - static_cast<std::size_t>(channels)] : 0;
      const int pred = filter == 0 ? 0 : filter == 1 ? a : filter == 2 ? u : filter == 3 ? (a + u) / 2 : paeth(a, u, c);
      filtered.push_back(static_cast<std::uint8_t>(cur[i] - pred));
    }
  }
  uLongf size = compressBound(static_cast<uLong>(filtered.size()));
  Bytes z(size);
  REQUIRE(compress2(z.data(), &size, filtered.data(), static_cast<uLong>(filtered.size()), 9) == Z_OK);
  z.resize(size);

  Bytes png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  Bytes ihdr;
  put32(ihdr, static_cast<std::uint32_t>(cols));
  put32(ihdr, static_cast<std::uint32_t>(rows));
  ihdr.insert(ihdr.end(), {static_cast<std::uint8_t>(depth), static_cast<std::uint8_t>(colour_type), 0, 0,
                           static_cast<std::uint8_t>(interlace)});
  chunk(png, "IHDR", ihdr);
  chunk(png, "tEXt", text(std::string("Comment\0ignored", 15)));  // an ancillary chunk to skip
  // Split the data over two IDAT chunks: decoders must concatenate them.
  const std::size_t half = z.size() / 2;
  chunk(png, "IDAT", Bytes(z.begin(), z.begin() + static_cast<std::ptrdiff_t>(half)));
  chunk(png, "IDAT", Bytes(z.begin() + static_cast<std::ptrdiff_t>(half), z.end()));
  chunk(png, "IEND", {});
  return png;
}

// A PNG whose IHDR claims width x height (8-bit, `colour_type`) and whose one IDAT holds `raw` deflated: the
// rows it holds need not match the claim.
Bytes png_claiming(std::uint32_t width, std::uint32_t height, int colour_type, const Bytes& raw) {
  uLongf size = compressBound(static_cast<uLong>(raw.size()));
  Bytes z(size);
  REQUIRE(compress2(z.data(), &size, raw.data(), static_cast<uLong>(raw.size()), 9) == Z_OK);
  z.resize(size);
  Bytes png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  Bytes ihdr;
  put32(ihdr, width);
  put32(ihdr, height);
  ihdr.insert(ihdr.end(), {8, static_cast<std::uint8_t>(colour_type), 0, 0, 0});
  chunk(png, "IHDR", ihdr);
  chunk(png, "IDAT", z);
  chunk(png, "IEND", {});
  return png;
}

// read_gray_image(path) in a child capped at its current mapping + 64 MiB: it must throw DataError.
ctnet::testing::ChildOutcome read_image_limited(const std::string& path) {
  return ctnet::testing::run_with_memory_limit<ctnet::DataError>(64ull << 20,
                                                                 [&] { (void)ctnet::read_gray_image(path); });
}

std::string image_error(const std::string& path) {
  try {
    (void)ctnet::read_gray_image(path);
  } catch (const ctnet::DataError& e) {
    return e.what();
  }
  FAIL("read_gray_image('" << path << "') did not throw");
  return {};
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

Bytes ramp(std::size_t n, int step = 37) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>((i * static_cast<std::size_t>(step)) % 256);
  return b;
}

}  // namespace

TEST_CASE("PGM P5 with a comment, and P2 with maxval 15") {
  TempDir dir;
  Bytes p5 = text("P5\n# made by a test\n3 2\n255\n");
  const Bytes px = {0, 51, 102, 153, 204, 255};
  p5.insert(p5.end(), px.begin(), px.end());
  write_file(dir / "a.pgm", p5);
  const ctnet::GrayImage a = ctnet::read_gray_image(dir / "a.pgm");
  CHECK(a.rows == 2);
  CHECK(a.cols == 3);
  REQUIRE(a.pixels.size() == 6);
  for (std::size_t i = 0; i < 6; ++i) CHECK(a.pixels[i] == doctest::Approx(px[i] / 255.0f));

  write_file(dir / "b.pgm", text("P2 # ascii\n2 2 15\n0 15\n 5\t10\n"));
  const ctnet::GrayImage b = ctnet::read_gray_image(dir / "b.pgm");
  CHECK(b.rows == 2);
  CHECK(b.cols == 2);
  CHECK(b.pixels == std::vector<float>{0.0f, 1.0f, 5.0f / 15.0f, 10.0f / 15.0f});
}

TEST_CASE("bad PGM files give DataError naming the path") {
  TempDir dir;
  write_file(dir / "short.pgm", text("P5 4 4 255\nabc"));
  std::string msg = image_error(dir / "short.pgm");
  CHECK(contains(msg, dir / "short.pgm"));
  CHECK(contains(msg, "16 pixel bytes expected, found 3"));
  write_file(dir / "short2.pgm", text("P2 2 2 255 1 2 3"));
  CHECK(contains(image_error(dir / "short2.pgm"), "4 pixels expected, found 3"));
  write_file(dir / "deep.pgm", text("P5 1 1 65535\n\x01\x02"));
  CHECK(contains(image_error(dir / "deep.pgm"), "maxval 65535 is not supported"));
  write_file(dir / "over.pgm", text("P2 1 2 10 3 11"));
  CHECK(contains(image_error(dir / "over.pgm"), "above maxval 10"));
  write_file(dir / "nohdr.pgm", text("P5 12"));
  CHECK(contains(image_error(dir / "nohdr.pgm"), "missing height"));
  write_file(dir / "junk.pgm", text("P2 1 1 9 x"));
  CHECK(contains(image_error(dir / "junk.pgm"), "expected pixel value"));
  write_file(dir / "zero.pgm", text("P5 0 3 255\n"));
  CHECK(contains(image_error(dir / "zero.pgm"), "zero or absurd"));
  write_file(dir / "colour.ppm", text("P6 1 1 255\n\x01\x02\x03"));
  CHECK(contains(image_error(dir / "colour.ppm"), "P6 is not supported"));
}

TEST_CASE("PNG gray, all five row filters") {
  TempDir dir;
  const int rows = 7, cols = 9;
  const Bytes px = ramp(static_cast<std::size_t>(rows * cols));
  write_file(dir / "g.png", make_png(rows, cols, 0, px));
  const ctnet::GrayImage g = ctnet::read_gray_image(dir / "g.png");
  CHECK(g.rows == rows);
  CHECK(g.cols == cols);
  for (std::size_t i = 0; i < px.size(); ++i) REQUIRE(g.pixels[i] == doctest::Approx(px[i] / 255.0f));
}

TEST_CASE("PNG RGB becomes luma; alpha is composited over white") {
  TempDir dir;
  const int rows = 6, cols = 5;
  const Bytes rgb = ramp(static_cast<std::size_t>(rows * cols * 3), 53);
  write_file(dir / "c.png", make_png(rows, cols, 2, rgb));
  const ctnet::GrayImage c = ctnet::read_gray_image(dir / "c.png");
  for (std::size_t i = 0; i < static_cast<std::size_t>(rows * cols); ++i) {
    const float luma = (0.299f * rgb[3 * i] + 0.587f * rgb[3 * i + 1] + 0.114f * rgb[3 * i + 2]) / 255.0f;
    REQUIRE(c.pixels[i] == doctest::Approx(luma).epsilon(1e-5));
  }
  // RGBA: opaque red, transparent black, half-transparent black.
  write_file(dir / "a.png", make_png(1, 3, 6, {255, 0, 0, 255, 0, 0, 0, 0, 0, 0, 0, 128}));
  const ctnet::GrayImage a = ctnet::read_gray_image(dir / "a.png");
  CHECK(a.pixels[0] == doctest::Approx(0.299f));
  CHECK(a.pixels[1] == doctest::Approx(1.0f));
  CHECK(a.pixels[2] == doctest::Approx(1.0f - 128.0f / 255.0f));
  // Gray + alpha.
  write_file(dir / "ga.png", make_png(1, 2, 4, {200, 255, 0, 0}));
  const ctnet::GrayImage ga = ctnet::read_gray_image(dir / "ga.png");
  CHECK(ga.pixels[0] == doctest::Approx(200.0f / 255.0f));
  CHECK(ga.pixels[1] == doctest::Approx(1.0f));
}

TEST_CASE("unsupported PNG variants are refused with a clear message") {
  TempDir dir;
  write_file(dir / "pal.png", make_png(2, 2, 3, ramp(4)));
  CHECK(contains(image_error(dir / "pal.png"), "palette PNG (colour type 3) is not supported"));
  write_file(dir / "d16.png", make_png(2, 2, 0, ramp(4), 16));
  CHECK(contains(image_error(dir / "d16.png"), "bit depth 16 is not supported"));
  write_file(dir / "il.png", make_png(2, 2, 0, ramp(4), 8, 1));
  CHECK(contains(image_error(dir / "il.png"), "interlaced PNG is not supported"));
}

TEST_CASE("truncated and garbage PNG files give DataError naming the path") {
  TempDir dir;
  const Bytes good = make_png(8, 8, 0, ramp(64));
  for (std::size_t cut : {std::size_t{4}, std::size_t{20}, std::size_t{40}, good.size() - 12, good.size() - 1}) {
    write_file(dir / "cut.png", Bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut)));
    const std::string msg = image_error(dir / "cut.png");
    INFO("cut at " << cut << ": " << msg);
    CHECK(contains(msg, dir / "cut.png"));
    CHECK(contains(msg, "truncated PNG"));
  }
  Bytes lying = good;
  lying[33 + 3] = 0xF0;  // the tEXt chunk (right after the 33-byte signature + IHDR) now claims 240+ bytes
  lying[33 + 2] = 0xFF;
  write_file(dir / "lying.png", lying);
  CHECK(contains(image_error(dir / "lying.png"), "declares"));

  Bytes corrupt = good;
  // Overwrite the zlib header and first deflate bytes (the first IDAT's data follows the 8-byte signature,
  // the 25-byte IHDR chunk, the 27-byte tEXt chunk and the IDAT's own 8-byte length and type).
  const std::size_t idat = 8 + 25 + 27 + 8;
  REQUIRE(std::string(corrupt.begin() + idat - 4, corrupt.begin() + idat) == "IDAT");
  for (std::size_t i = idat; i < idat + 6; ++i) corrupt[i] = 0xFF;
  write_file(dir / "corrupt.png", corrupt);
  const std::string corrupt_msg = image_error(dir / "corrupt.png");
  CHECK(contains(corrupt_msg, dir / "corrupt.png"));
  CHECK(contains(corrupt_msg, "corrupt PNG image data"));

  write_file(dir / "garbage.png", text("this is not an image at all"));
  CHECK(contains(image_error(dir / "garbage.png"), "not a PGM or PNG image"));
  write_file(dir / "empty.png", {});
  CHECK(contains(image_error(dir / "empty.png"), "empty file"));
  CHECK(contains(image_error(dir / "missing.png"), "cannot open image"));
}

TEST_CASE("resize_bilinear: identity at the same size, averages on downscale, constant stays constant") {
  ctnet::GrayImage img{4, 6, {}};
  for (int i = 0; i < 24; ++i) img.pixels.push_back(static_cast<float>(i) / 23.0f);
  CHECK(ctnet::resize_bilinear(img, 4, 6).pixels == img.pixels);

  ctnet::GrayImage flat{56, 40, std::vector<float>(56 * 40, 0.25f)};
  for (auto [r, c] : {std::pair{28, 28}, std::pair{100, 90}, std::pair{3, 5}}) {
    const ctnet::GrayImage out = ctnet::resize_bilinear(flat, r, c);
    CHECK(out.rows == r);
    CHECK(out.cols == c);
    for (float v : out.pixels) REQUIRE(v == doctest::Approx(0.25f));
  }
  // A 1-pixel checkerboard halved averages to gray instead of aliasing to black or white.
  ctnet::GrayImage checker{8, 8, {}};
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 8; ++x) checker.pixels.push_back(static_cast<float>((x + y) % 2));
  for (float v : ctnet::resize_bilinear(checker, 4, 4).pixels) CHECK(v == doctest::Approx(0.5f).epsilon(0.15));
  CHECK_THROWS_AS(ctnet::resize_bilinear(img, 0, 28), ctnet::Error);
}

TEST_CASE("read_gray_image_resized gives 28x28") {
  TempDir dir;
  write_file(dir / "big.png", make_png(50, 40, 0, Bytes(2000, 255)));
  const ctnet::GrayImage img = ctnet::read_gray_image_resized(dir / "big.png");
  CHECK(img.rows == 28);
  CHECK(img.cols == 28);
  for (float v : img.pixels) REQUIRE(v == doctest::Approx(1.0f));
}

TEST_CASE("image headers claiming huge sizes cost nothing: limits checked before allocating") {
  TempDir dir;
  // 8192 x 8192 RGBA (the 2^26-pixel limit) claimed by a 60-byte PNG holding one row: the decoder must not
  // allocate the 256 MiB of rows the header claims (the child has 64 MiB to spare).
  write_file(dir / "bomb.png", png_claiming(8192, 8192, 6, Bytes(1 + 8192 * 4, 0)));
  auto r = read_image_limited(dir / "bomb.png");
  CHECK(r.signal == 0);
  CHECK(r.exit_code == 0);
  CHECK(r.message == "ctnet: '" + dir / "bomb.png" + "': PNG image data ends early: 32769 of 268443648 bytes");
  // Over the limit: refused from IHDR alone, with the limit in the message.
  write_file(dir / "huge.png", png_claiming(100000, 100000, 0, Bytes(8, 0)));
  CHECK(image_error(dir / "huge.png") ==
        "ctnet: '" + dir / "huge.png" + "': image size 100000x100000 is zero or absurd (the limit is 67108864 pixels)");
  write_file(dir / "wide.png", png_claiming(0xFFFFFFFFu, 1, 0, Bytes(8, 0)));
  CHECK(contains(image_error(dir / "wide.png"), "image size 4294967295x1 is zero or absurd"));
  // More data than the image needs.
  write_file(dir / "long.png", png_claiming(2, 2, 0, Bytes(9, 0)));
  CHECK(contains(image_error(dir / "long.png"), "PNG image data holds more than the 6 bytes a 2x2 image needs"));

  // PGM: the pixel count is checked against the bytes present before the floats are allocated.
  write_file(dir / "bomb5.pgm", text("P5 8000 8000 255\nabc"));
  r = read_image_limited(dir / "bomb5.pgm");
  CHECK(r.exit_code == 0);
  CHECK(r.message == "ctnet: '" + dir / "bomb5.pgm" + "': truncated PGM: 64000000 pixel bytes expected, found 3");
  write_file(dir / "bomb2.pgm", text("P2 8000 8000 255 1 2 3"));
  r = read_image_limited(dir / "bomb2.pgm");
  CHECK(r.exit_code == 0);
  CHECK(r.message == "ctnet: '" + dir / "bomb2.pgm" + "': truncated PGM: 64000000 pixels expected, found 3");
  write_file(dir / "huge.pgm", text("P5 65536 65536 255\n"));
  CHECK(contains(image_error(dir / "huge.pgm"), "image size 65536x65536 is zero or absurd (the limit is 67108864"));
}

TEST_CASE("a directory, a missing or unreadable path is a DataError naming it") {
  TempDir dir;
  fs::create_directories(dir / "digit.png");
  CHECK(image_error(dir / "digit.png") == "ctnet: '" + dir / "digit.png" + "' is a directory, not an image file");
  CHECK(image_error(dir / "missing.png") ==
        "ctnet: cannot open image '" + dir / "missing.png" + "': No such file or directory");
  write_file(dir / "plain", text("P2 1 1 1 1"));
  CHECK(contains(image_error(dir / "plain/x.png"), "cannot open image '" + dir / "plain/x.png" + "': Not a directory"));
  if (::geteuid() != 0) {  // root reads a mode-000 file anyway
    fs::permissions(dir / "plain", fs::perms::none);
    CHECK(image_error(dir / "plain") == "ctnet: cannot open image '" + dir / "plain" + "': Permission denied");
  }
  // decode_gray_image is the same decoder on bytes in memory.
  CHECK(ctnet::decode_gray_image(text("P2 2 1 4 0 4"), "mem").pixels == std::vector<float>{0.0f, 1.0f});
  CHECK_THROWS_WITH_AS(ctnet::decode_gray_image({}, "mem"), "ctnet: 'mem': not a PGM or PNG image (empty file)",
                       ctnet::DataError);
}
