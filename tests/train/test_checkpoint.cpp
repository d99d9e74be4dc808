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
  // A valid safetensors file that is not a ctnet checkpoint, and not this network's state_dict either.
  const std::string foreign = temp_path("foreign.safetensors");
  const float v[2] = {1, 2};
  save_safetensors(foreign, {{"x", "F32", {2}, v, sizeof v}}, {});
  CHECK_THROWS_WITH_AS(load_checkpoint(m, foreign),
                       ("ctnet: '" + foreign + "' does not fit this network by name and shape (3 mismatches): missing "
                        "tensors: 0.weight [2, 3], 0.bias [2]; unexpected tensors: x [2]").c_str(),
                       CheckpointError);
  std::filesystem::remove(foreign);
  // A truncated checkpoint.
  const std::string cut = temp_path("cut.safetensors");
  save_checkpoint(m, cut);
  std::filesystem::resize_file(cut, std::filesystem::file_size(cut) - 4);
  CHECK_THROWS_AS(load_checkpoint(m, cut), CheckpointError);
  std::filesystem::remove(cut);
}

namespace {

// The model's tensors as a plain state_dict (no metadata), as scripts/ctnet_torch.py writes PyTorch's; with
// PyTorch's I64 num_batches_tracked counter beside each BatchNorm.
template <class M>
void save_plain_state_dict(const M& m, const std::string& path, std::vector<TensorView> more = {}) {
  static const std::int64_t counter = 7;
  const std::vector<float> params = m.read_parameters(), buffers = m.read_buffers();
  std::vector<TensorView> views;
  for (const NamedTensor& t : M::named_parameters())
    views.push_back({t.name, "F32", {t.shape.begin(), t.shape.end()}, params.data() + t.offset, std::size_t(t.size) * 4});
  for (const NamedTensor& t : M::named_buffers()) {
    views.push_back({t.name, "F32", {t.shape.begin(), t.shape.end()}, buffers.data() + t.offset, std::size_t(t.size) * 4});
    if (t.name.ends_with(".running_var"))
      views.push_back({t.name.substr(0, t.name.size() - 11) + "num_batches_tracked", "I64", {}, &counter, 8});
  }
  views.insert(views.end(), more.begin(), more.end());
  save_safetensors(path, views, {{"format", "pt"}});
}

}  // namespace

TEST_CASE("a plain state_dict (PyTorch's names and shapes, no ctnet metadata) loads by name and shape") {
  using Net = Sequential<Input<2, 6, 6>, Conv2d<3, 3>, BatchNorm2d, ReLU, Flatten, Linear<4>, BatchNorm1d>;
  Model<Net> a(1, 4), b(2, 4);
  Generator g(9, RngStream::user);
  for (float& p : a.parameters()) p = float(g.uniform(-1, 1));
  for (float& v : a.buffers()) v = float(g.uniform(0.5, 1.5));
  b.set_step(5);
  const std::string path = temp_path("plain.safetensors");
  save_plain_state_dict(a, path);
  load_checkpoint(b, path);
  std::filesystem::remove(path);
  CHECK(std::equal(a.parameters().begin(), a.parameters().end(), b.parameters().begin()));
  CHECK(std::equal(a.buffers().begin(), a.buffers().end(), b.buffers().begin()));
  CHECK(b.step() == 5);  // a state_dict has no step: the model keeps its own
}

TEST_CASE("a state_dict that does not fit names every mismatch in one error") {
  using Net = Sequential<Input<2, 6, 6>, Conv2d<3, 3>, BatchNorm2d, ReLU, Flatten, Linear<4>>;
  using Other = Sequential<Input<2, 6, 6>, Conv2d<3, 3>, BatchNorm2d, ReLU, Flatten, Linear<5>>;
  Model<Other> other(1);
  Model<Net> m(1);
  const std::string path = temp_path("misfit.safetensors");
  const float extra[3] = {1, 2, 3};
  const std::int64_t ints[3] = {1, 2, 3};
  // Linear<5> instead of Linear<4> (two wrong shapes), an extra tensor and a counter of the wrong kind.
  save_plain_state_dict(other, path, {{"head.weight", "F32", {3}, extra, sizeof extra}});
  {
    SafetensorsFile f = load_safetensors(path);
    CHECK(state_dict_mismatches<Model<Net>>(f).count() == 3);
  }
  CHECK_THROWS_WITH_AS(load_checkpoint(m, path),
                       ("ctnet: '" + path + "' does not fit this network by name and shape (3 mismatches): unexpected "
                        "tensors: head.weight [3]; wrong shapes: 4.weight is [5, 48] in the file, [4, 48] in the "
                        "network, 4.bias is [5] in the file, [4] in the network").c_str(),
                       CheckpointError);
  // Missing tensors, an integer tensor under a parameter's name and a malformed BatchNorm counter.
  const std::vector<float> p = m.read_parameters(), b = m.read_buffers();
  save_safetensors(path, {{"0.weight", "F32", {3, 2, 3, 3}, p.data(), 54 * 4},
                          {"0.bias", "I64", {3}, ints, sizeof ints},
                          {"1.running_mean", "F32", {3}, b.data(), 12},
                          {"1.num_batches_tracked", "F32", {3}, extra, sizeof extra}});
  CHECK_THROWS_WITH_AS(load_checkpoint(m, path),
                       ("ctnet: '" + path + "' does not fit this network by name and shape (7 mismatches): missing "
                        "tensors: 1.weight [3], 1.bias [3], 4.weight [4, 48], 4.bias [4], 1.running_var [3]; "
                        "wrong shapes: 1.num_batches_tracked is F32 [3] in the file; PyTorch's BatchNorm counter is "
                        "I64 []; wrong dtypes: 0.bias is I64 (ctnet reads F32 and F64)").c_str(),
                       CheckpointError);
  std::filesystem::remove(path);
}

TEST_CASE("a ctnet checkpoint of another architecture names the first layer and every tensor that differs") {
  using A = Sequential<Input<1, 8, 8>, Conv2d<4, 3>, ReLU, Flatten, Linear<10>>;
  using B = Sequential<Input<1, 8, 8>, Conv2d<4, 3>, ReLU, Flatten, Linear<10, NoBias>>;
  Model<A> a(1);
  Model<B> b(1);
  const std::string path = temp_path("arch2.safetensors");
  save_checkpoint(a, path);
  CHECK_THROWS_WITH_AS(load_checkpoint(b, path),
                       ("ctnet: '" + path + "' was saved from a different architecture: the file has '3 Linear(in_features="
                        "144, out_features=10) -> 10', this network has '3 Linear(in_features=144, out_features=10, "
                        "bias=False) -> 10'; by name and shape, unexpected tensors: 3.bias [10]").c_str(),
                       CheckpointError);
  std::filesystem::remove(path);
}

TEST_CASE("F64 tensors load into float models, but not values beyond float's range") {
  Model<Sequential<Input<2>, Linear<1, NoBias>>> m(1);
  const std::string path = temp_path("f64.safetensors");
  const double w[2] = {0.25, -1.5};
  save_safetensors(path, {{"0.weight", "F64", {1, 2}, w, sizeof w}});
  load_checkpoint(m, path);
  CHECK(m.parameters()[0] == 0.25f);
  CHECK(m.parameters()[1] == -1.5f);
  const double huge[2] = {0.25, 1e300};
  save_safetensors(path, {{"0.weight", "F64", {1, 2}, huge, sizeof huge}});
  CHECK_THROWS_WITH_AS(load_checkpoint(m, path),
                       ("ctnet: '" + path + "': tensor '0.weight' holds 1e+300 at element 1, beyond the range of this "
                        "model's float").c_str(),
                       CheckpointError);
  std::filesystem::remove(path);
}
