// tests/fuzz/make_seeds.cpp — writes the fuzz targets' seed corpora (committed under tests/fuzz/corpus/):
// a few small valid files per target, so the fuzzer starts from inputs that reach deep into each reader.
//
// Usage: make_seeds DIR   (writes DIR/<target>/<name>; run by hand when a format changes, then commit)
#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include "fuzz_net.hpp"
#include <ctnet/train/checkpoint.hpp>
#include <ctnet/train/training_state.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>


namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

namespace {

void write(const fs::path& path, const Bytes& b) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  if (!out) {
    std::fprintf(stderr, "error: cannot write '%s'\n", path.c_str());
    std::exit(1);
  }
}

Bytes text(const std::string& s) { return Bytes(s.begin(), s.end()); }

void put32(Bytes& b, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<std::uint8_t>(v >> s));
}

Bytes idx(const std::vector<std::uint32_t>& dims) {
  Bytes b = {0, 0, 8, static_cast<std::uint8_t>(dims.size())};
  std::size_t n = 1;
  for (const auto d : dims) put32(b, d), n *= d;
  for (std::size_t i = 0; i < n; ++i) b.push_back(static_cast<std::uint8_t>(i * 37 + 11));
  return b;
}

Bytes gzip(const Bytes& in) {
  z_stream zs{};
  if (deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) std::exit(1);
  Bytes out(deflateBound(&zs, static_cast<uLong>(in.size())) + 32);
  zs.next_in = const_cast<std::uint8_t*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  if (deflate(&zs, Z_FINISH) != Z_STREAM_END) std::exit(1);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

void chunk(Bytes& png, const std::string& type, const Bytes& data) {
  put32(png, static_cast<std::uint32_t>(data.size()));
  Bytes body(type.begin(), type.end());
  body.insert(body.end(), data.begin(), data.end());
  png.insert(png.end(), body.begin(), body.end());
  put32(png, static_cast<std::uint32_t>(crc32(0, body.data(), static_cast<uInt>(body.size()))));
}

// rows x cols, `channels` per pixel (colour type from it), row y filtered with y % 5 applied as "none" bytes:
// the decoder undoes each filter, so any filter byte with any data is a valid image.
Bytes png(int rows, int cols, int colour_type, int channels) {
  Bytes raw;
  for (int y = 0; y < rows; ++y) {
    raw.push_back(static_cast<std::uint8_t>(y % 5));
    for (int i = 0; i < cols * channels; ++i) raw.push_back(static_cast<std::uint8_t>(y * 31 + i * 17));
  }
  uLongf size = compressBound(static_cast<uLong>(raw.size()));
  Bytes z(size);
  if (compress2(z.data(), &size, raw.data(), static_cast<uLong>(raw.size()), 9) != Z_OK) std::exit(1);
  z.resize(size);
  Bytes out = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  Bytes ihdr;
  put32(ihdr, static_cast<std::uint32_t>(cols));
  put32(ihdr, static_cast<std::uint32_t>(rows));
  ihdr.insert(ihdr.end(), {8, static_cast<std::uint8_t>(colour_type), 0, 0, 0});
  chunk(out, "IHDR", ihdr);
  chunk(out, "tEXt", text(std::string("Comment\0seed", 12)));
  const std::size_t half = z.size() / 2;
  chunk(out, "IDAT", Bytes(z.begin(), z.begin() + static_cast<std::ptrdiff_t>(half)));
  chunk(out, "IDAT", Bytes(z.begin() + static_cast<std::ptrdiff_t>(half), z.end()));
  chunk(out, "IEND", {});
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds DIR\n");
    return 2;
  }
  const fs::path dir = argv[1];
  try {
    for (const char* sub : {"idx", "idx_gzip", "image", "safetensors", "checkpoint", "training_state", "json"})
      fs::create_directories(dir / sub);
    write(dir / "idx/images.idx", idx({3, 4, 4}));
    write(dir / "idx/labels.idx", idx({5}));
    write(dir / "idx/images.idx.gz", gzip(idx({2, 3, 3})));
    Bytes two = gzip(idx({4}));
    const Bytes tail = gzip(Bytes{1, 2});
    two.insert(two.end(), tail.begin(), tail.end());  // two members, the second holding trailing bytes
    write(dir / "idx/two_members.idx.gz", two);
    // fuzz_idx_gzip compresses its input; the last byte picks the damage (0: none).
    for (const auto& [name, dims] : {std::pair{"images", std::vector<std::uint32_t>{2, 4, 4}},
                                     std::pair{"labels", std::vector<std::uint32_t>{6}}}) {
      Bytes b = idx(dims);
      b.push_back(0);
      write(dir / "idx_gzip" / name, b);
    }

    write(dir / "image/p5.pgm", text("P5\n# a comment\n3 2\n255\n\x01\x80\xff\x00\x10\x20"));
    write(dir / "image/p2.pgm", text("P2 2 2 15\n0 15\n5 10\n"));
    write(dir / "image/gray.png", png(5, 4, 0, 1));
    write(dir / "image/gray_alpha.png", png(3, 3, 4, 2));
    write(dir / "image/rgb.png", png(5, 3, 2, 3));
    write(dir / "image/rgba.png", png(2, 6, 6, 4));

    const std::vector<float> f = {1.0f, -2.5f, 3.25f, 0.0f, 5.0f, 6.0f};
    const std::vector<std::int64_t> i = {7, -8};
    const std::vector<double> d = {0.5};
    ctnet::save_safetensors((dir / "safetensors/three").string(),
                            {{"w", "F32", {2, 3}, f.data(), f.size() * sizeof(float)},
                             {"step", "I64", {2}, i.data(), i.size() * sizeof(std::int64_t)},
                             {"empty", "F32", {0, 4}, nullptr, 0},
                             {"x", "F64", {1}, d.data(), sizeof(double)}},
                            {{"format", "pt"}, {"note", "seed"}});
    ctnet::save_safetensors((dir / "safetensors/one").string(),
                            {{"a.b", "U8", {3}, f.data(), 3}});

    ctnet::Model<ctnet_fuzz::CheckpointNet> model(7, 2);
    ctnet::save_checkpoint(model, (dir / "checkpoint/model").string());
    // Another network's checkpoint, so the fuzzer starts near the architecture comparison too.
    ctnet::Model<ctnet::Sequential<ctnet::Input<1, 6, 6>, ctnet::Flatten, ctnet::Linear<3>>> other(7, 2);
    ctnet::save_checkpoint(other, (dir / "checkpoint/other_net").string());
    // The same network's tensors as a plain PyTorch state_dict (no ctnet metadata, a BatchNorm counter).
    {
      const std::vector<float> p = model.read_parameters(), b = model.read_buffers();
      const std::int64_t counter = 3;
      std::vector<ctnet::TensorView> views;
      for (const auto& [named, arena] : {std::pair{decltype(model)::named_parameters(), &p},
                                         std::pair{decltype(model)::named_buffers(), &b}})
        for (const ctnet::NamedTensor& t : named)
          views.push_back({t.name, "F32", {t.shape.begin(), t.shape.end()}, arena->data() + t.offset,
                           std::size_t(t.size) * sizeof(float)});
      views.push_back({"1.num_batches_tracked", "I64", {}, &counter, sizeof counter});
      ctnet::save_safetensors((dir / "checkpoint/state_dict").string(), views, {{"format", "pt"}});
    }

    // Training states of the run fuzz_training_state loads: after one epoch, after two with an Adam run's
    // options beside them; a model checkpoint there too (not a training state).
    {
      const ctnet::Dataset data = ctnet_fuzz::state_data();
      ctnet::DataLoader loader(data, ctnet_fuzz::state_loader_options());
      ctnet::SGD<float> sgd = ctnet_fuzz::state_optimizer();
      ctnet::TrainingRecord record{ctnet_fuzz::state_run(), {1, 2}, {{"train_loss", "lr"}, {{0.9, 0.05}}}, {}};
      ctnet::save_training_state((dir / "training_state/epoch1").string(), model, sgd, loader, record);
      record.counters = {2, 4};
      record.history.rows.push_back({0.5, 0.025});
      record.user_metadata["example"] = "fuzz";
      ctnet::save_training_state((dir / "training_state/epoch2").string(), model, sgd, loader, record);
      ctnet::save_checkpoint(model, (dir / "training_state/model_only").string());
    }

    write(dir / "json/safetensors_header.json",
          text(R"({"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}})"));
    write(dir / "json/values.json",
          text(R"([null,true,false,0,-0,1.5e-3,-12345678901234567890,9223372036854775807,"a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"])"));
    write(dir / "json/nested.json", text(R"({"a":[{"b":[[]]},{}],"c":{"d":"\u0041é"}})"));
    write(dir / "json/log_line.json", text(R"({"epoch":3,"loss":0.0123,"accuracy":99.1,"lr":1e-05,"ok":true})"));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
