// A program as a ctnet user writes it: one include, a network as a type, a forward pass, an IDX file.
// Built by tests/consumer/run_consumer.cmake against an installed ctnet (find_package) and against the
// source tree (add_subdirectory); it prints "ctnet consumer: OK" and exits 0 when everything checks out.
#include <zlib.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include <ctnet/ctnet.hpp>  // the one include: the IDX reader, losses, optimizers and the version come with it

// 1x8x8 -> Conv2d 4x6x6 (4*1*3*3 + 4 = 40 parameters) -> MaxPool2d 4x3x3 -> Flatten 36 -> Linear 10 (36*10 + 10 = 370).
using Net = ctnet::Sequential<ctnet::Input<1, 8, 8>, ctnet::Conv2d<4, 3>, ctnet::ReLU, ctnet::MaxPool2d<2>,
                              ctnet::Flatten, ctnet::Linear<10>, ctnet::LogSoftmax>;
static_assert(ctnet::has_output_shape<Net, ctnet::Shape<10>>());
static_assert(Net::parameter_count == 410);

namespace {

int failures = 0;
void check(bool ok, const std::string& what) {
  if (!ok) {
    std::cerr << "ctnet consumer: FAILED: " << what << "\n";
    ++failures;
  }
}

// Writes a gzip-compressed 2x3 IDX file and reads it back: exercises the zlib link that ctnet brings.
void check_idx() {
  const auto path = (std::filesystem::temp_directory_path() / "ctnet_consumer_test.idx.gz").string();
  const unsigned char file[] = {0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6};
  gzFile gz = gzopen(path.c_str(), "wb");
  check(gz != nullptr && gzwrite(gz, file, sizeof file) == int(sizeof file) && gzclose(gz) == Z_OK, "writing " + path);
  const ctnet::IdxArray a = ctnet::read_idx(path);
  std::filesystem::remove(path);
  check(a.dims == std::vector<int>{2, 3}, "IDX dimensions");
  check(a.bytes == std::vector<std::uint8_t>{1, 2, 3, 4, 5, 6}, "IDX bytes");
}

}  // namespace

int main() {
  ctnet::summary<Net>(std::cout);
#ifdef CTNET_EXPECTED_VERSION
  check(std::string(ctnet::version_string) == CTNET_EXPECTED_VERSION,
        std::string("ctnet/version.hpp says ") + ctnet::version_string + ", the build system " + CTNET_EXPECTED_VERSION);
#endif

  constexpr long batch = 3;
  ctnet::Model<Net> model(/*seed=*/7, /*max_batch=*/batch);
  model.eval();
  std::vector<float> x(std::size_t(batch * Net::input_shape_t::size));
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(i % 17) / 17.0f - 0.5f;
  const float* y = model.forward(x.data(), batch);
  for (long n = 0; n < batch; ++n) {
    double total = 0;
    for (long k = 0; k < 10; ++k) total += std::exp(double(y[n * 10 + k]));
    check(std::abs(total - 1.0) < 1e-4, "sample " + std::to_string(n) + ": softmax sums to " + std::to_string(total));
  }
  check(model.parameters().size() == 410, "parameter arena size");
  std::cout << "forward: " << batch << " samples -> " << Net::output_shape_t::size << " log-probabilities each, "
            << model.parameters().size() << " parameters\n";
  check_idx();
  if (failures != 0) return 1;
  std::cout << "ctnet consumer: OK\n";
  return 0;
}
