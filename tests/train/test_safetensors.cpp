#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "ctnet/train/safetensors.hpp"

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

namespace {

// A private directory per test, because other test binaries may run concurrently in the same temp dir.
struct TempDir {
  fs::path dir;
  TempDir() {
    std::random_device rd;
    dir = fs::temp_directory_path() / ("ctnet_st_" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(dir);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string file(const std::string& name) const { return (dir / name).string(); }
};

Bytes read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const std::string& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

void put_u64(Bytes& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

// A file from raw parts, so each test can break exactly one thing.
Bytes raw_file(const std::string& header, std::size_t buffer_bytes) {
  Bytes out;
  put_u64(out, header.size());
  out.insert(out.end(), header.begin(), header.end());
  out.resize(out.size() + buffer_bytes, 0xAB);
  return out;
}

// Loading must fail with a CheckpointError that names the file and contains the reason.
void check_load_fails(const std::string& path, const std::string& reason) {
  CAPTURE(reason);
  try {
    (void)ctnet::load_safetensors(path);
    FAIL("load_safetensors accepted a bad file");
  } catch (const ctnet::CheckpointError& e) {
    const std::string what = e.what();
    CAPTURE(what);
    CHECK(what.rfind("ctnet: ", 0) == 0);
    CHECK(what.find(path) != std::string::npos);
    CHECK(what.find(reason) != std::string::npos);
  }
}

void check_header_fails(const TempDir& tmp, const std::string& header, std::size_t buffer_bytes,
                        const std::string& reason) {
  const std::string path = tmp.file("bad.safetensors");
  write_bytes(path, raw_file(header, buffer_bytes));
  check_load_fails(path, reason);
}

const std::string good_entry = R"("w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";

}  // namespace

TEST_CASE("safetensors: round trip of F32, F64 and I64 tensors with metadata") {
  TempDir tmp;
  const std::string path = tmp.file("model.safetensors");
  const std::vector<float> w = {1.5f, -2.25f, 3.0f, 0.0f, 1e-30f, -7.0f};
  const std::vector<double> b = {0.1, -1e300};
  const std::vector<std::int64_t> steps = {-1, 9007199254740993};
  const std::vector<float> empty;
  ctnet::save_safetensors(path,
                          {{"layer.weight", "F32", {2, 3}, w.data(), w.size() * 4},
                           {"layer.bias", "F64", {2}, b.data(), b.size() * 8},
                           {"empty", "F32", {0, 5}, empty.data(), 0},
                           {"step", "I64", {2}, steps.data(), steps.size() * 8}},
                          {{"format", "pt"}, {"ctnet", "{\"epoch\":3}"}});
  CHECK_FALSE(fs::exists(path + ".tmp"));
  CHECK(read_bytes(path).size() % 8 == 0);  // 8 + padded header + 72 bytes, all multiples of 8

  const ctnet::SafetensorsFile f = ctnet::load_safetensors(path);
  CHECK(f.metadata == std::map<std::string, std::string>{{"format", "pt"}, {"ctnet", "{\"epoch\":3}"}});
  REQUIRE(f.tensors.size() == 4);
  CHECK(f.tensors[0].name == "layer.weight");  // file offset order, which is save order
  CHECK(f.tensors[1].name == "layer.bias");
  CHECK(f.tensors[2].name == "empty");
  CHECK(f.tensors[3].name == "step");
  const ctnet::TensorRecord* tw = f.find("layer.weight");
  REQUIRE(tw != nullptr);
  CHECK(tw->dtype == "F32");
  CHECK(tw->shape == std::vector<std::int64_t>{2, 3});
  CHECK(tw->numel() == 6);
  CHECK(tw->as_f32() == w);
  CHECK(f.find("layer.bias")->as_f64() == b);
  CHECK(f.find("step")->as_i64() == steps);
  CHECK(f.find("empty")->shape == std::vector<std::int64_t>{0, 5});
  CHECK(f.find("empty")->bytes.empty());
  CHECK(f.find("nope") == nullptr);
  CHECK_THROWS_AS((void)tw->as_f64(), ctnet::CheckpointError);

  // Saving again replaces the file atomically; no metadata means no "__metadata__" key.
  ctnet::save_safetensors(path, {{"only", "I64", {1}, steps.data(), 8}}, {});
  const ctnet::SafetensorsFile g = ctnet::load_safetensors(path);
  CHECK(g.metadata.empty());
  REQUIRE(g.tensors.size() == 1);
  CHECK(g.tensors[0].as_i64() == std::vector<std::int64_t>{-1});

  ctnet::save_safetensors(path, {}, {});
  CHECK(read_bytes(path) == Bytes{8, 0, 0, 0, 0, 0, 0, 0, '{', '}', ' ', ' ', ' ', ' ', ' ', ' '});
  CHECK(ctnet::load_safetensors(path).tensors.empty());
}

TEST_CASE("safetensors: byte-exact file layout") {
  TempDir tmp;
  const std::string path = tmp.file("tiny.safetensors");
  const float a[2] = {1.0f, -2.0f};
  const std::int64_t b = 7;
  ctnet::save_safetensors(path, {{"a", "F32", {2}, a, 8}, {"b", "I64", {}, &b, 8}}, {{"format", "pt"}});

  const std::string header =
      R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
      R"("b":{"dtype":"I64","shape":[],"data_offsets":[8,16]}})"
      "      ";  // 138 bytes of JSON + 6 spaces = 144 = 0x90
  REQUIRE(header.size() == 144);
  Bytes expected = {0x90, 0, 0, 0, 0, 0, 0, 0};
  expected.insert(expected.end(), header.begin(), header.end());
  const Bytes data = {0x00, 0x00, 0x80, 0x3F,   // 1.0f
                      0x00, 0x00, 0x00, 0xC0,   // -2.0f
                      7, 0, 0, 0, 0, 0, 0, 0};  // int64 7
  expected.insert(expected.end(), data.begin(), data.end());
  CHECK(read_bytes(path) == expected);

  // Readers must accept unpadded headers (MLX writes them) and tensors in any offset order.
  const std::string reversed = R"({"b":{"dtype":"I64","shape":[],"data_offsets":[8,16]},)"
                               R"("a":{"data_offsets":[0,8],"shape":[2],"dtype":"F32"}})";
  Bytes file;
  put_u64(file, reversed.size());
  file.insert(file.end(), reversed.begin(), reversed.end());
  file.insert(file.end(), data.begin(), data.end());
  write_bytes(path, file);
  const ctnet::SafetensorsFile f = ctnet::load_safetensors(path);
  REQUIRE(f.tensors.size() == 2);
  CHECK(f.tensors[0].name == "a");
  CHECK(f.tensors[0].as_f32() == std::vector<float>{1.0f, -2.0f});
  CHECK(f.tensors[1].as_i64() == std::vector<std::int64_t>{7});
}

TEST_CASE("safetensors: tensor names with JSON-special characters survive") {
  TempDir tmp;
  const std::string path = tmp.file("names.safetensors");
  const float x = 1.0f;
  const std::string name = "block\"0\"\\w\n\xC3\xA9";
  ctnet::save_safetensors(path, {{name, "F32", {1}, &x, 4}}, {{"note", "tab\there"}});
  const ctnet::SafetensorsFile f = ctnet::load_safetensors(path);
  REQUIRE(f.find(name) != nullptr);
  CHECK(f.metadata.at("note") == "tab\there");
}

TEST_CASE("safetensors: save rejects bad input and unwritable paths") {
  TempDir tmp;
  const std::string path = tmp.file("out.safetensors");
  const float x[2] = {1.0f, 2.0f};
  auto check_save_fails = [&](const std::string& p, const std::vector<ctnet::TensorView>& t, const std::string& why) {
    CAPTURE(why);
    try {
      ctnet::save_safetensors(p, t, {});
      FAIL("save_safetensors accepted bad input");
    } catch (const ctnet::CheckpointError& e) {
      const std::string what = e.what();
      CAPTURE(what);
      CHECK(what.find(p) != std::string::npos);
      CHECK(what.find(why) != std::string::npos);
    }
    CHECK_FALSE(fs::exists(p + ".tmp"));
  };
  // A missing directory is found before the temporary is opened (core/output_file.hpp).
  check_save_fails(tmp.file("no/such/dir/x.safetensors"), {{"a", "F32", {2}, x, 8}}, "does not exist");
  check_save_fails(path, {{"a", "F32", {3}, x, 8}}, "8 bytes given but shape [3] of F32 needs 12");
  check_save_fails(path, {{"a", "F17", {2}, x, 8}}, "unknown dtype \"F17\"");
  check_save_fails(path, {{"a", "F32", {-2}, x, 8}}, "invalid shape [-2]");
  check_save_fails(path, {{"a", "F32", {2}, x, 8}, {"a", "F32", {2}, x, 8}}, "duplicate tensor name 'a'");
  check_save_fails(path, {{"__metadata__", "F32", {2}, x, 8}}, "reserved");
  check_save_fails(path, {{"a", "F32", {2}, nullptr, 8}}, "null data pointer");
  CHECK_FALSE(fs::exists(path));
}

TEST_CASE("safetensors: a failed save leaves the previous checkpoint intact") {
  TempDir tmp;
  const std::string path = tmp.file("keep.safetensors");
  const float x[2] = {1.0f, 2.0f};
  ctnet::save_safetensors(path, {{"a", "F32", {2}, x, 8}}, {});
  const Bytes before = read_bytes(path);
  CHECK_THROWS_AS(ctnet::save_safetensors(path, {{"a", "F32", {3}, x, 8}}, {}), ctnet::CheckpointError);
  CHECK(read_bytes(path) == before);
}

TEST_CASE("safetensors: corrupt files are rejected with a precise reason") {
  TempDir tmp;
  const std::string path = tmp.file("c.safetensors");
  const float x[2] = {1.0f, 2.0f};
  auto fresh = [&] {
    ctnet::save_safetensors(path, {{"w", "F32", {2}, x, 8}}, {{"k", "v"}});
    return read_bytes(path);
  };
  const Bytes valid = fresh();
  REQUIRE(ctnet::load_safetensors(path).tensors.size() == 1);

  SUBCASE("missing file") { check_load_fails(tmp.file("absent.safetensors"), "cannot open"); }
  SUBCASE("a directory") { check_load_fails(tmp.dir.string(), "cannot open"); }
  SUBCASE("shorter than 8 bytes") {
    write_bytes(path, Bytes(valid.begin(), valid.begin() + 5));
    check_load_fails(path, "file is 5 bytes, shorter than 8 bytes");
  }
  SUBCASE("header size larger than the file") {
    Bytes b = valid;
    b[0] = 0xF0, b[1] = 0x01;  // 0x1F0 = 496
    write_bytes(path, b);
    check_load_fails(path, "header size 496 is larger than the file");
  }
  SUBCASE("absurd header size") {
    Bytes b = valid;
    b[7] = 0x80;
    write_bytes(path, b);
    check_load_fails(path, "is absurd (limit 100000000 bytes)");
  }
  SUBCASE("truncated data") {
    write_bytes(path, Bytes(valid.begin(), valid.end() - 1));
    check_load_fails(path, "\"data_offsets\" [0, 8] out of bounds (the data buffer is 7 bytes)");
  }
  SUBCASE("trailing bytes") {
    Bytes b = valid;
    b.push_back(0);
    b.push_back(0);
    write_bytes(path, b);
    check_load_fails(path, "2 trailing bytes after the last tensor");
  }
  SUBCASE("invalid JSON, with its position") {
    Bytes b = valid;
    b[8] = '[';  // ["__metadata__":... fails at the ':' after the 14-byte string
    write_bytes(path, b);
    check_load_fails(path, "header is not valid JSON: expected ',' or ']', got character ':' at byte 15 of the header");
  }
  SUBCASE("header cut mid-string") { check_header_fails(tmp, R"({"w":{"dty)", 0, "unterminated string at byte 10"); }
  SUBCASE("empty header") { check_header_fails(tmp, "", 0, "unexpected end of input at byte 0 of the header"); }
  SUBCASE("invalid UTF-8 in header") {
    check_header_fails(tmp, "{\"\xFF\":{}}", 0, "invalid UTF-8 in string at byte 2");
  }
  SUBCASE("deeply nested header") {
    check_header_fails(tmp, R"({"__metadata__":)" + std::string(100, '['), 0, "nesting deeper than 64");
  }
  SUBCASE("header not an object") { check_header_fails(tmp, "[1,2]   ", 0, "header is not a JSON object"); }
  SUBCASE("leading whitespace") { check_header_fails(tmp, " {" + good_entry + "}", 8, "must start with '{'"); }
  SUBCASE("entry not an object") { check_header_fails(tmp, R"({"w":[1]})", 0, "tensor 'w': entry is not an object"); }
  SUBCASE("missing dtype") {
    check_header_fails(tmp, R"({"w":{"shape":[2],"data_offsets":[0,8]}})", 8, "tensor 'w': missing \"dtype\"");
  }
  SUBCASE("missing shape") {
    check_header_fails(tmp, R"({"w":{"dtype":"F32","data_offsets":[0,8]}})", 8, "tensor 'w': missing \"shape\"");
  }
  SUBCASE("missing data_offsets") {
    check_header_fails(tmp, R"({"w":{"dtype":"F32","shape":[2]}})", 8, "tensor 'w': missing \"data_offsets\"");
  }
  SUBCASE("unexpected key") {
    check_header_fails(tmp, R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}})", 8,
                       "tensor 'w': unexpected key \"x\"");
  }
  SUBCASE("duplicate key in an entry") {
    check_header_fails(tmp, R"({"w":{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 8,
                       "tensor 'w': duplicate key \"dtype\"");
  }
  SUBCASE("dtype not a string") {
    check_header_fails(tmp, R"({"w":{"dtype":4,"shape":[2],"data_offsets":[0,8]}})", 8, "\"dtype\" is not a string");
  }
  SUBCASE("unknown dtype") {
    check_header_fails(tmp, R"({"w":{"dtype":"f32","shape":[2],"data_offsets":[0,8]}})", 8,
                       "tensor 'w': unknown dtype \"f32\"");
  }
  SUBCASE("shape not an array") {
    check_header_fails(tmp, R"({"w":{"dtype":"F32","shape":2,"data_offsets":[0,8]}})", 8, "\"shape\" is not an array");
  }
  SUBCASE("negative dimension") {
    check_header_fails(tmp, R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8,
                       "tensor 'w': \"shape\" has a negative dimension -2");
  }
  SUBCASE("fractional dimension") {
    check_header_fails(tmp, R"({"w":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})", 8,
                       "\"shape\" holds a non-integer");
  }
  SUBCASE("overflowing shape") {
    check_header_fails(tmp, R"({"w":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", 8,
                       "shape [4294967296, 4294967296] is larger than the file");
  }
  SUBCASE("data_offsets not two non-negative integers") {
    for (const char* offs : {"[0]", "[0,8,8]", "[-1,8]", "[0,8.0]", "[\"0\",8]", "{}", "8"}) {
      check_header_fails(tmp, std::string(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":)") + offs + "}}", 8,
                         "tensor 'w': \"data_offsets\" must be two non-negative integers");
    }
  }
  SUBCASE("data_offsets end before begin") {
    check_header_fails(tmp, R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", 8, "end before begin");
  }
  SUBCASE("byte length does not match the shape") {
    check_header_fails(tmp, R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8,
                       "tensor 'w': byte length 8 does not match shape [3] of F32 (12 bytes)");
  }
  SUBCASE("offsets out of bounds") {
    check_header_fails(tmp, R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 8,
                       "tensor 'w': \"data_offsets\" [4, 12] out of bounds (the data buffer is 8 bytes)");
  }
  SUBCASE("overlapping tensors") {
    check_header_fails(tmp,
                       R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                       R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                       8, "tensor 'b' overlaps tensor 'a'");
  }
  SUBCASE("hole between tensors") {
    check_header_fails(tmp,
                       R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                       R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                       12, "hole of 4 bytes before tensor 'b' at offset 4");
  }
  SUBCASE("hole at the start") {
    check_header_fails(tmp, R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8,
                       "hole of 4 bytes before tensor 'w' at offset 0");
  }
  SUBCASE("trailing bytes with no tensors") { check_header_fails(tmp, "{}", 3, "3 trailing bytes"); }
  SUBCASE("duplicate tensor name") {
    check_header_fails(tmp, "{" + good_entry + "," + good_entry + "}", 8, "duplicate tensor name 'w'");
  }
  SUBCASE("metadata not an object") {
    check_header_fails(tmp, R"({"__metadata__":["a"],)" + good_entry + "}", 8, "\"__metadata__\" is not an object");
  }
  SUBCASE("metadata value not a string") {
    check_header_fails(tmp, R"({"__metadata__":{"epoch":3},)" + good_entry + "}", 8,
                       "\"__metadata__\" value for key \"epoch\" is not a string");
  }
  SUBCASE("duplicate metadata key") {
    check_header_fails(tmp, R"({"__metadata__":{"k":"a","k":"b"},)" + good_entry + "}", 8,
                       "duplicate \"__metadata__\" key \"k\"");
  }
  SUBCASE("duplicate metadata object") {
    check_header_fails(tmp, R"({"__metadata__":{},"__metadata__":{},)" + good_entry + "}", 8,
                       "duplicate \"__metadata__\"");
  }
}

TEST_CASE("safetensors: zero-size tensors may share an offset") {
  TempDir tmp;
  const std::string path = tmp.file("z.safetensors");
  write_bytes(path, raw_file(R"({"e":{"dtype":"F64","shape":[0],"data_offsets":[8,8]},)"
                             R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                             R"("f":{"dtype":"BF16","shape":[3,0],"data_offsets":[8,8]}})",
                             8));
  const ctnet::SafetensorsFile f = ctnet::load_safetensors(path);
  REQUIRE(f.tensors.size() == 3);
  CHECK(f.tensors[0].name == "a");
  CHECK(f.tensors[1].name == "e");
  CHECK(f.tensors[2].name == "f");
  CHECK(f.tensors[2].dtype == "BF16");
}

TEST_CASE("safetensors: hostile files are bounded before anything is allocated") {
  TempDir tmp;
  SUBCASE("a directory, a missing path") {
    check_load_fails(tmp.dir.string(), "cannot open: it is a directory, not a file");
    check_load_fails(tmp.file("missing"), "cannot open: No such file or directory");
  }
  SUBCASE("too many JSON values in the header") {
    // A shape of 2^22 dimensions: 8 MiB of text that would parse to 2^22 values of 40 bytes each.
    std::string shape = "[0";
    for (std::size_t i = 1; i < ctnet::safetensors_max_header_values; ++i) shape += ",0";
    const std::string header = R"({"w":{"dtype":"F32","shape":)" + shape + R"(],"data_offsets":[0,0]}})";
    check_header_fails(tmp, header, 0, "header is not valid JSON: more than 4194304 values at byte");
  }
  SUBCASE("a header length claiming more than the file, or than the limit") {
    const std::string path = tmp.file("long.safetensors");
    Bytes b;
    put_u64(b, 0xFFFFFFFFFFFFFFFFull);
    b.push_back('{');
    write_bytes(path, b);
    check_load_fails(path, "header size 18446744073709551615 is absurd (limit 100000000 bytes)");
  }
  SUBCASE("offsets out of range, overlapping or beyond the file") {
    check_header_fails(tmp, R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", 8,
                       "\"data_offsets\" [8, 16] out of bounds (the data buffer is 8 bytes)");
    check_header_fails(tmp,
                       R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                       R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                       12, "tensor 'b' overlaps tensor 'a'");
    check_header_fails(tmp, R"({"w":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,0]}})", 0,
                       "shape [4611686018427387904] is larger than the file");
    check_header_fails(tmp, R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[18446744073709551615,0]}})", 1,
                       "\"data_offsets\" must be two non-negative integers");
  }
}

TEST_CASE("safetensors: an empty tensor with huge dimensions loads, and numel() does not overflow") {
  TempDir tmp;
  const std::string path = tmp.file("empty.safetensors");
  write_bytes(path,
              raw_file(R"({"e":{"dtype":"F32","shape":[4611686018427387904,4611686018427387904,0],"data_offsets":[0,0]}})",
                       0));
  const ctnet::SafetensorsFile f = ctnet::load_safetensors(path);
  REQUIRE(f.tensors.size() == 1);
  CHECK(f.tensors[0].numel() == 0);  // multiplying first would overflow int64 (UBSan reports it)
  CHECK(f.tensors[0].as_f32().empty());
}
