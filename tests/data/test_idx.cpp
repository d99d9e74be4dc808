// Tests for ctnet/data/idx.hpp and ctnet/data/mnist.hpp on synthetic IDX files (real MNIST is optional).
#include <doctest/doctest.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdlib>
#include <ctnet/data/idx.hpp>
#include <ctnet/data/mnist.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "support/memory_limit.hpp"

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

namespace {

// A fresh directory per test case, removed afterwards.
struct TempDir {
  fs::path path;
  TempDir() {
    static int counter = 0;
    path =
        fs::temp_directory_path() / ("ctnet_test_idx_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

Bytes idx_bytes(std::vector<std::uint32_t> dims, const Bytes& data, std::uint8_t type = 0x08) {
  Bytes b = {0, 0, type, static_cast<std::uint8_t>(dims.size())};
  for (std::uint32_t d : dims) {
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<std::uint8_t>(d >> s));
  }
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

Bytes iota_bytes(std::size_t n) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 7 + 3);
  return b;
}

void write_file(const std::string& path, const Bytes& b) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  REQUIRE(out.good());
}

Bytes read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_gz(const std::string& path, const Bytes& b) {
  gzFile f = gzopen(path.c_str(), "wb9");
  REQUIRE(f != nullptr);
  REQUIRE(gzwrite(f, b.data(), static_cast<unsigned>(b.size())) == static_cast<int>(b.size()));
  REQUIRE(gzclose(f) == Z_OK);
}

// The DataError message for reading `path`; fails the test if reading succeeds.
std::string idx_error(const std::string& path) {
  try {
    (void)ctnet::read_idx(path);
  } catch (const ctnet::DataError& e) {
    return e.what();
  }
  FAIL("read_idx('" << path << "') did not throw");
  return {};
}

std::string mnist_error(const std::string& dir, bool train) {
  try {
    (void)ctnet::load_mnist_split(dir, train);
  } catch (const ctnet::DataError& e) {
    return e.what();
  }
  FAIL("load_mnist_split('" << dir << "') did not throw");
  return {};
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// A gzip stream of `b` (level 9); `trailer` false drops the CRC and length, as a cut-off download would.
Bytes gzip_bytes(const Bytes& b, bool trailer) {
  z_stream zs{};
  REQUIRE(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY) == Z_OK);
  Bytes out(deflateBound(&zs, static_cast<uLong>(b.size())) + 32);
  zs.next_in = const_cast<std::uint8_t*>(b.data());
  zs.avail_in = static_cast<uInt>(b.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&zs, Z_FINISH) == Z_STREAM_END);
  out.resize(zs.total_out - (trailer ? 0 : 8));
  deflateEnd(&zs);
  return out;
}

#if defined(__SANITIZE_ADDRESS__)
constexpr bool under_asan = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool under_asan = true;
#else
constexpr bool under_asan = false;
#endif
#else
constexpr bool under_asan = false;
#endif

// read_idx(path) in a child capped at its current mapping + 64 MiB: it must throw DataError, not bad_alloc.
ctnet::testing::ChildOutcome read_idx_limited(const std::string& path) {
  return ctnet::testing::run_with_memory_limit<ctnet::DataError>(64ull << 20, [&] { (void)ctnet::read_idx(path); });
}

// Writes a small MNIST-like split: n images of r x c and n labels.
void write_split(const TempDir& dir, const std::string& prefix, int n, int r, int c, const Bytes& labels, bool gz) {
  const auto N = static_cast<std::uint32_t>(n);
  const Bytes images = idx_bytes({N, static_cast<std::uint32_t>(r), static_cast<std::uint32_t>(c)},
                                 iota_bytes(static_cast<std::size_t>(n * r * c)));
  const Bytes lab = idx_bytes({static_cast<std::uint32_t>(labels.size())}, labels);
  if (gz) {
    write_gz(dir / (prefix + "-images-idx3-ubyte.gz"), images);
    write_gz(dir / (prefix + "-labels-idx1-ubyte.gz"), lab);
  } else {
    write_file(dir / (prefix + "-images-idx3-ubyte"), images);
    write_file(dir / (prefix + "-labels-idx1-ubyte"), lab);
  }
}

}  // namespace

TEST_CASE("read_idx reads a raw file") {
  TempDir dir;
  const Bytes data = iota_bytes(2 * 3 * 4);
  write_file(dir / "a", idx_bytes({2, 3, 4}, data));
  const ctnet::IdxArray a = ctnet::read_idx(dir / "a");
  CHECK(a.dims == std::vector<int>{2, 3, 4});
  CHECK(a.bytes == data);
  CHECK(a.element_count() == 24);
}

TEST_CASE(".gz round trip equals the raw file, and path falls back to path.gz") {
  TempDir dir;
  const Bytes file = idx_bytes({5, 7}, iota_bytes(35));
  write_file(dir / "raw", file);
  write_gz(dir / "packed.gz", file);
  write_gz(dir / "only_gz.gz", file);
  const auto raw = ctnet::read_idx(dir / "raw");
  const auto gz = ctnet::read_idx(dir / "packed.gz");
  const auto fallback = ctnet::read_idx(dir / "only_gz");  // name without .gz
  CHECK(raw.dims == gz.dims);
  CHECK(raw.bytes == gz.bytes);
  CHECK(fallback.bytes == raw.bytes);
}

TEST_CASE("concatenated gzip members are one stream, as gzip itself reads them") {
  TempDir dir;
  const Bytes file = idx_bytes({4, 4}, iota_bytes(16));
  write_gz(dir / "p1.gz", Bytes(file.begin(), file.begin() + 10));
  write_gz(dir / "p2.gz", Bytes(file.begin() + 10, file.end()));
  Bytes both = read_file(dir / "p1.gz");
  const Bytes second = read_file(dir / "p2.gz");
  both.insert(both.end(), second.begin(), second.end());
  write_file(dir / "multi.gz", both);
  CHECK(ctnet::read_idx(dir / "multi.gz").bytes == iota_bytes(16));
}

TEST_CASE("missing file names the path") {
  TempDir dir;
  const std::string msg = idx_error(dir / "nope");
  CHECK(contains(msg, "ctnet: "));
  CHECK(contains(msg, dir / "nope"));
  CHECK(contains(msg, "not found"));
}

TEST_CASE("wrong magic names the bytes found and expected") {
  TempDir dir;
  write_file(dir / "bad", {0x12, 0x34, 0x08, 0x01, 0, 0, 0, 1, 9});
  const std::string msg = idx_error(dir / "bad");
  CHECK(contains(msg, dir / "bad"));
  CHECK(contains(msg, "12 34 08 01"));
  CHECK(contains(msg, "expected 00 00 08"));
}

TEST_CASE("unsupported type code, bad rank, zero and absurd dims") {
  TempDir dir;
  write_file(dir / "int32", idx_bytes({1}, {0, 0, 0, 1}, 0x0C));
  CHECK(contains(idx_error(dir / "int32"), "unsupported IDX element type 0x0c (int32)"));
  write_file(dir / "rank0", {0, 0, 8, 0});
  CHECK(contains(idx_error(dir / "rank0"), "rank 0"));
  write_file(dir / "zero", idx_bytes({3, 0}, {}));
  CHECK(contains(idx_error(dir / "zero"), "dimension 1 is zero"));
  write_file(dir / "huge", idx_bytes({0xFFFFFFFFu, 0xFFFFFFFFu}, {1, 2, 3}));
  CHECK(contains(idx_error(dir / "huge"), "absurd dimensions"));
  write_file(dir / "short_header", {0, 0, 8, 3, 0, 0, 0, 2});
  CHECK(contains(idx_error(dir / "short_header"), "truncated header"));
  write_file(dir / "tiny", {0, 0});
  CHECK(contains(idx_error(dir / "tiny"), "too short"));
}

TEST_CASE("truncated file gives expected vs actual byte counts, raw and gz") {
  TempDir dir;
  Bytes file = idx_bytes({10, 10}, iota_bytes(100));
  file.resize(file.size() - 30);
  write_file(dir / "t", file);
  std::string msg = idx_error(dir / "t");
  CHECK(contains(msg, "truncated"));
  CHECK(contains(msg, "need 100 data bytes, found 70"));
  write_gz(dir / "t2.gz", file);
  msg = idx_error(dir / "t2.gz");
  CHECK(contains(msg, "need 100 data bytes, found 70"));
}

TEST_CASE("trailing garbage is refused, raw and gz") {
  TempDir dir;
  Bytes file = idx_bytes({4}, {1, 2, 3, 4});
  file.push_back(0xAA);
  file.push_back(0xBB);
  write_file(dir / "g", file);
  CHECK(contains(idx_error(dir / "g"), "2 trailing bytes"));
  write_gz(dir / "g.gz", file);
  CHECK(contains(idx_error(dir / "g.gz"), "2 trailing bytes"));
  // Bytes after the gzip stream that are not another gzip member.
  write_gz(dir / "h.gz", idx_bytes({4}, {1, 2, 3, 4}));
  Bytes gz = read_file(dir / "h.gz");
  gz.push_back('\n');
  write_file(dir / "h.gz", gz);
  CHECK(contains(idx_error(dir / "h.gz"), "after the end of the gzip stream"));
  gz.push_back('x');
  write_file(dir / "h.gz", gz);
  CHECK(contains(idx_error(dir / "h.gz"), "after the end of the gzip stream"));
}

TEST_CASE("gzip corruption is reported") {
  TempDir dir;
  const Bytes file = idx_bytes({64, 64}, iota_bytes(64 * 64));
  write_gz(dir / "c.gz", file);
  const Bytes good = read_file(dir / "c.gz");

  Bytes cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(good.size() / 2));
  write_file(dir / "cut.gz", cut);
  CHECK(contains(idx_error(dir / "cut.gz"), "gzip stream ends early"));

  Bytes no_trailer(good.begin(), good.end() - 4);  // data complete, CRC/length trailer partly gone
  write_file(dir / "nt.gz", no_trailer);
  CHECK(contains(idx_error(dir / "nt.gz"), "gzip stream ends early"));

  Bytes flipped = good;
  flipped[flipped.size() - 6] ^= 0xFF;  // inside the CRC-32 trailer
  write_file(dir / "crc.gz", flipped);
  CHECK(contains(idx_error(dir / "crc.gz"), "corrupt gzip data"));

  Bytes garbage = good;
  for (std::size_t i = 12; i < 40; ++i) garbage[i] = static_cast<std::uint8_t>(i * 37);
  write_file(dir / "bad.gz", garbage);
  const std::string msg = idx_error(dir / "bad.gz");
  CHECK(contains(msg, dir / "bad.gz"));
  // Garbled deflate data may still decode into something; whatever fails first, the message names the file.
  CHECK(msg.rfind("ctnet: ", 0) == 0);
}

TEST_CASE("load_mnist_split reads raw and gz splits alike") {
  TempDir raw, gz;
  const Bytes labels = {0, 1, 2, 9, 4};
  write_split(raw, "train", 5, 3, 2, labels, false);
  write_split(gz, "train", 5, 3, 2, labels, true);
  const ctnet::Dataset a = ctnet::load_mnist_split(raw.path.string(), true);
  const ctnet::Dataset b = ctnet::load_mnist_split(gz.path.string() + "/", true);
  CHECK(a.count == 5);
  CHECK(a.rows == 3);
  CHECK(a.cols == 2);
  CHECK(a.labels == labels);
  CHECK(a.images == iota_bytes(30));
  CHECK(b.images == a.images);
  CHECK(b.labels == a.labels);
  CHECK(a.image(2)[0] == a.images[12]);
}

TEST_CASE("load_mnist_split checks counts, labels, ranks and presence") {
  SUBCASE("count mismatch names both files") {
    TempDir dir;
    write_split(dir, "t10k", 5, 2, 2, {1, 2, 3, 4}, false);
    const std::string msg = mnist_error(dir.path.string(), false);
    CHECK(contains(msg, "t10k-images-idx3-ubyte' holds 5 images"));
    CHECK(contains(msg, "t10k-labels-idx1-ubyte' holds 4 labels"));
  }
  SUBCASE("label above 9") {
    TempDir dir;
    write_split(dir, "train", 3, 2, 2, {1, 10, 3}, false);
    const std::string msg = mnist_error(dir.path.string(), true);
    CHECK(contains(msg, "train-labels-idx1-ubyte"));
    CHECK(contains(msg, "label 1 is 10"));
  }
  SUBCASE("images of rank 2") {
    TempDir dir;
    write_file(dir / "train-images-idx3-ubyte", idx_bytes({3, 4}, iota_bytes(12)));
    write_file(dir / "train-labels-idx1-ubyte", idx_bytes({3}, {1, 2, 3}));
    CHECK(contains(mnist_error(dir.path.string(), true), "must have rank 3"));
  }
  SUBCASE("labels of rank 2") {
    TempDir dir;
    write_file(dir / "train-images-idx3-ubyte", idx_bytes({3, 1, 1}, iota_bytes(3)));
    write_file(dir / "train-labels-idx1-ubyte", idx_bytes({3, 1}, {1, 2, 3}));
    CHECK(contains(mnist_error(dir.path.string(), true), "must have rank 1"));
  }
  SUBCASE("missing split says how to fetch") {
    TempDir dir;
    const std::string msg = mnist_error(dir.path.string(), true);
    CHECK(contains(msg, "train-images-idx3-ubyte"));
    CHECK(contains(msg, "fetch_mnist.sh"));
    CHECK(msg.rfind("ctnet: ", 0) == 0);
  }
}

TEST_CASE("slice copies a range and checks bounds") {
  TempDir dir;
  write_split(dir, "train", 6, 2, 3, {0, 1, 2, 3, 4, 5}, false);
  const ctnet::Dataset d = ctnet::load_mnist_split(dir.path.string(), true);
  const ctnet::Dataset s = ctnet::slice(d, 2, 3);
  CHECK(s.count == 3);
  CHECK(s.labels == Bytes{2, 3, 4});
  CHECK(s.images == Bytes(d.images.begin() + 12, d.images.begin() + 30));
  CHECK(ctnet::slice(d, 6, 0).count == 0);
  CHECK_THROWS_AS(ctnet::slice(d, 4, 3), ctnet::DataError);
  CHECK_THROWS_AS(ctnet::slice(d, -1, 2), ctnet::DataError);
  CHECK_THROWS_AS(ctnet::slice(d, 0, -1), ctnet::DataError);
}

TEST_CASE("real MNIST, when present, has the canonical shapes") {
  const char* env = std::getenv("CTNET_DATA");
  const std::string dir = env ? env : "data/mnist";
  if (!fs::exists(dir + "/t10k-labels-idx1-ubyte") && !fs::exists(dir + "/t10k-labels-idx1-ubyte.gz")) {
    MESSAGE("skipped: no MNIST in " << dir << std::string(" (run scripts/fetch_mnist.sh)"));
    return;
  }
  const ctnet::Dataset test = ctnet::load_mnist_split(dir, false);
  CHECK(test.count == 10000);
  CHECK(test.rows == 28);
  CHECK(test.cols == 28);
  CHECK(static_cast<int>(test.labels[0]) == 7);  // the first test digit is a 7
  const ctnet::Dataset train = ctnet::load_mnist_split(dir, true);
  CHECK(train.count == 60000);
  CHECK(static_cast<int>(train.labels[0]) == 5);  // and the first training digit a 5
}

TEST_CASE("the memory-limited child really is limited (control for the gzip-bomb tests)") {
  // Under AddressSanitizer an allocation over the limit is a sanitizer report, not std::bad_alloc.
  if (under_asan) return;
  const auto r = ctnet::testing::run_with_memory_limit<std::bad_alloc>(64ull << 20, [] {
    std::vector<std::uint8_t> big(std::size_t{1} << 30);
    big[12345] = 1;
    // The pointer escapes, so the compiler may not elide the allocation (clang does without this).
    asm volatile("" : : "r"(big.data()) : "memory");
  });
  CHECK(r.exit_code == 0);
}

TEST_CASE("gzip bombs: a claimed size is never allocated before the data arrives") {
  TempDir dir;
  // 21 bytes: a gzip stream, cut before its trailer, of an IDX header claiming 2^30 bytes (1 GiB) and no data.
  const Bytes one_gib = gzip_bytes(idx_bytes({1u << 30}, {}), false);
  CHECK(one_gib.size() <= 21);
  write_file(dir / "bomb1", one_gib);
  // 32 bytes: a complete gzip stream of a header claiming 65536x256x256 = 2^32 bytes (4 GiB, the limit) and
  // no data.
  const Bytes four_gib = gzip_bytes(idx_bytes({65536, 256, 256}, {}), true);
  CHECK(four_gib.size() <= 32);
  write_file(dir / "bomb4", four_gib);

  auto r = read_idx_limited(dir / "bomb1");
  CHECK(r.signal == 0);
  CHECK(r.exit_code == 0);
  CHECK(r.message == "ctnet: '" + dir / "bomb1" +
                         "': truncated (the gzip stream ends early): dimensions 1073741824 need 1073741824 data bytes, "
                         "found 0");
  r = read_idx_limited(dir / "bomb4");
  CHECK(r.signal == 0);
  CHECK(r.exit_code == 0);
  CHECK(r.message ==
        "ctnet: '" + dir / "bomb4" + "': truncated: dimensions 65536x256x256 need 4294967296 data bytes, found 0");

  // 60000x1000x1000 is over the 2^32-element limit: rejected from the header alone.
  write_file(dir / "bomb60", gzip_bytes(idx_bytes({60000, 1000, 1000}, {}), true));
  r = read_idx_limited(dir / "bomb60");
  CHECK(r.exit_code == 0);
  CHECK(contains(r.message, "absurd dimensions (dimension 2 = 1000; more than 4294967296 elements in all)"));

  // A real bomb, compressible data that is really there (16 MiB of zeros in ~16 KB), is read in full: the buffer
  // follows the data, not the claim.
  const Bytes zeros = gzip_bytes(idx_bytes({16, 1024, 1024}, Bytes(std::size_t{16} << 20, 0)), true);
  CHECK(zeros.size() < 100'000);
  write_file(dir / "zeros", zeros);
  const ctnet::IdxArray a = ctnet::read_idx(dir / "zeros");
  CHECK(a.bytes.size() == std::size_t{16} << 20);
  CHECK(a.dims == std::vector<int>{16, 1024, 1024});
}

TEST_CASE("a raw file's claim is compared with its size before allocating") {
  TempDir dir;
  write_file(dir / "claim", idx_bytes({65536, 256, 256}, {9, 9, 9}));
  const auto r = read_idx_limited(dir / "claim");
  CHECK(r.signal == 0);
  CHECK(r.exit_code == 0);
  CHECK(r.message ==
        "ctnet: '" + dir / "claim" + "': truncated: dimensions 65536x256x256 need 4294967296 data bytes, found 3");
}

TEST_CASE("a directory or an unreadable path is a DataError naming it") {
  TempDir dir;
  fs::create_directories(dir / "images.idx");
  CHECK(idx_error(dir / "images.idx") == "ctnet: '" + dir / "images.idx" + "' is a directory, not an IDX file");
  // A path through a regular file (ENOTDIR) cannot be opened whoever runs the test, root included.
  write_file(dir / "plain", idx_bytes({1}, {1}));
  CHECK(contains(idx_error(dir / "plain/x"), "IDX file '" + dir / "plain/x" + "' not found"));
  if (::geteuid() != 0) {  // root reads a mode-000 file anyway
    write_file(dir / "locked", idx_bytes({1}, {1}));
    fs::permissions(dir / "locked", fs::perms::none);
    CHECK(idx_error(dir / "locked") == "ctnet: cannot open '" + dir / "locked" + "': Permission denied");
  }
}
