#include "support/helpers.hpp"

#include <ctnet/train/checkpoint.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "../examples/mnist_models.hpp"

using namespace ctnet;
using namespace ctnet::testing;

namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("ctnet_test_" + std::to_string(::getpid()) + "_" + name)).string();
}

// Save a trained-looking model (random parameters and statistics), load into a differently seeded
// one, and compare eval-mode predictions bit for bit.
template <class Net, class T = float>
void check_round_trip(const std::string& name) {
  Model<Net, Cpu, T> a(11, 4), b(12, 4);
  Generator g(5, RngStream::user);
  for (T& p : a.parameters()) p = T(g.uniform(-1, 1));
  for (T& v : a.buffers()) v = T(g.uniform(0.5, 1.5));
  std::vector<T> x(std::size_t(4 * Net::input_shape_t::size));
  for (T& v : x) v = T(g.uniform(-1, 1));
  a.eval();
  b.eval();
  const auto ya = run(a, x);
  const std::string path = temp_path(name + ".safetensors");
  save_checkpoint(a, path);
  load_checkpoint(b, path);
  std::filesystem::remove(path);
  CHECK(run(b, x) == ya);
  CHECK(std::equal(a.buffers().begin(), a.buffers().end(), b.buffers().begin()));
}

}  // namespace

TEST_CASE("every layer survives a save/load round trip") {
  check_round_trip<Sequential<Input<2, 6, 6>, Conv2d<3, 3, Padding<1>>>>("conv");
  check_round_trip<Sequential<Input<2, 6, 6>, Conv2d<3, 3, NoBias, Stride<2>>>>("conv_nobias");
  check_round_trip<Sequential<Input<2, 6, 6>, BatchNorm2d, MaxPool2d<2>, AvgPool2d<3>>>("bn_pools");
  check_round_trip<Sequential<Input<2, 6, 6>, GlobalAvgPool, Flatten, BatchNorm1d, Linear<3>>>("gap_bn1d_linear");
  check_round_trip<Sequential<Input<5>, Linear<4, NoBias>, ReLU, Dropout<0.5f>, Identity, Softmax>>("linear_act");
  check_round_trip<Sequential<Input<2, 4, 4>, Dropout2d<0.5f>, Flatten, LogSoftmax>>("dropout2d");
  check_round_trip<mnist::Step3Gap>("flagship");
  check_round_trip<Sequential<Input<2, 6, 6>, Conv2d<3, 3>, BatchNorm2d>, double>("double");
}

TEST_CASE("checkpoint files hold PyTorch names, shapes and ctnet metadata") {
  Model<mnist::Step3Gap> m(3);
  const std::string path = temp_path("names.safetensors");
  save_checkpoint(m, path, {{{"epochs", "15"}}, {}});
  const SafetensorsFile f = load_safetensors(path);
  std::filesystem::remove(path);
  REQUIRE(f.find("0.weight"));
  CHECK(f.find("0.weight")->shape == std::vector<std::int64_t>{8, 1, 3, 3});
  CHECK(f.find("0.weight")->dtype == "F32");
  REQUIRE(f.find("1.running_var"));
  CHECK(f.metadata.at("format") == "ctnet");
  CHECK(f.metadata.at("parameter_count") == std::to_string(mnist::Step3Gap::parameter_count));
  CHECK(f.metadata.at("architecture").find("4 Conv2d(8, 16, kernel_size=3, bias=False) -> 16x24x24") !=
        std::string::npos);
  CHECK(f.metadata.at("user.epochs") == "15");
}

TEST_CASE("loading into a different architecture names the first difference") {
  using A = Sequential<Input<1, 8, 8>, Conv2d<4, 3>, ReLU, Flatten, Linear<10>>;
  using B = Sequential<Input<1, 8, 8>, Conv2d<6, 3>, ReLU, Flatten, Linear<10>>;
  Model<A> a(1);
  Model<B> b(1);
  const std::string path = temp_path("arch.safetensors");
  save_checkpoint(a, path);
  CHECK_THROWS_WITH_AS(load_checkpoint(b, path),
                       doctest::Contains("different architecture: the file has '0 Conv2d(1, 4, kernel_size=3) -> "
                                         "4x6x6', this network has '0 Conv2d(1, 6, kernel_size=3) -> 6x6x6'"),
                       CheckpointError);
  std::filesystem::remove(path);
}

TEST_CASE("bad checkpoint files give clear errors") {
  Model<Sequential<Input<3>, Linear<2>>> m(1);
  CHECK_THROWS_WITH_AS(load_checkpoint(m, temp_path("missing.safetensors")), doctest::Contains("missing"),
                       CheckpointError);
  const std::string garbage = temp_path("garbage.safetensors");
  std::ofstream(garbage) << "this is not a checkpoint at all";
  CHECK_THROWS_AS(load_checkpoint(m, garbage), CheckpointError);
  std::filesystem::remove(garbage);
  // A valid safetensors file that is not a ctnet checkpoint.
  const std::string foreign = temp_path("foreign.safetensors");
  const float v[2] = {1, 2};
  save_safetensors(foreign, {{"x", "F32", {2}, v, sizeof v}}, {});
  CHECK_THROWS_WITH_AS(load_checkpoint(m, foreign), doctest::Contains("not a ctnet checkpoint"), CheckpointError);
  std::filesystem::remove(foreign);
  // A truncated checkpoint.
  const std::string cut = temp_path("cut.safetensors");
  save_checkpoint(m, cut);
  std::filesystem::resize_file(cut, std::filesystem::file_size(cut) - 4);
  CHECK_THROWS_AS(load_checkpoint(m, cut), CheckpointError);
  std::filesystem::remove(cut);
}
