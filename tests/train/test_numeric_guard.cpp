// Numerical faults: the first non-finite loss or gradient stops training with a message naming the step,
// the first non-finite layer and a hint; nothing non-finite is saved or loaded.
#include "support/helpers.hpp"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <sstream>

#include <ctnet/data/loader.hpp>
#include <ctnet/train/checkpoint.hpp>
#include <ctnet/train/loss.hpp>
#include <ctnet/train/numeric_guard.hpp>
#include <ctnet/train/optimizer.hpp>
#include <ctnet/train/trainer.hpp>

#include "support/data.hpp"

using namespace ctnet;
using namespace ctnet::testing;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

// Forward, NLL loss, backward of one batch, then the guard (as Trainer runs a step); returns the message,
// or "" when the step passed.
template <class M>
std::string guarded_step(M& model, const std::vector<float>& x, const std::vector<int>& labels,
                         const TrainingStep& at) {
  const int n = int(labels.size());
  model.train();
  const float* out = model.forward(x.data(), n);
  const double loss = NLLLoss{}.forward(out, labels.data(), n, int(M::output_size));
  std::vector<float> grad(std::size_t(n) * M::output_size);
  NLLLoss{}.backward(out, labels.data(), n, int(M::output_size), grad.data());
  model.zero_grad();
  model.backward(grad.data());
  try {
    check_training_step(model, loss, grad.data(), at);
  } catch (const NumericalError& e) {
    return e.what();
  }
  return "";
}

template <class M>
long parameter_offset(const std::string& name) {
  for (const NamedTensor& t : M::named_parameters())
    if (t.name == name) return t.offset;
  FAIL("no parameter " << name);
  return 0;
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("ctnet_numeric_guard_" + name)).string();
}

// Two Linear layers: layer 2's weights decide whether its output overflows.
using Mlp = Sequential<Input<4>, Linear<4>, ReLU, Linear<3>, LogSoftmax>;
// A batch-norm chain (fused in training on the CPU) before the layer that overflows.
using Chain = Sequential<Input<1, 4, 4>, Conv2d<2, 3>, BatchNorm2d, ReLU, Flatten, Linear<3>, LogSoftmax>;
// Layer 1's input gradient overflows while its forward is finite.
using Pair = Sequential<Input<2>, Linear<2>, Linear<2>, LogSoftmax>;

}  // namespace

TEST_CASE("all_finite and first_nonfinite find NaN, +Inf and -Inf, in float and double") {
  std::vector<float> f{1.0f, -0.0f, std::numeric_limits<float>::max(), std::numeric_limits<float>::denorm_min(), 3.0f};
  CHECK(all_finite(f.data(), f.size()));
  CHECK(first_nonfinite(f.data(), f.size()) == -1);
  f[3] = kNaN;
  CHECK_FALSE(all_finite(f.data(), f.size()));
  CHECK(first_nonfinite(f.data(), f.size()) == 3);
  f[1] = -kInf;
  CHECK(first_nonfinite(f.data(), f.size()) == 1);
  CHECK(nonfinite_place(f.data(), 1) == "-Inf at element 1");
  CHECK(nonfinite_place(f.data(), 3, 2) == "NaN at sample 1, element 1");
  std::vector<double> d(1000, 1e300);
  CHECK(all_finite(d.data(), d.size()));
  d[999] = std::numeric_limits<double>::infinity();
  CHECK(first_nonfinite(d.data(), d.size()) == 999);
  CHECK(value_name(d[999]) == "+Inf");
}

TEST_CASE("a finite step passes the guard and leaves everything as it was") {
  Model<Mlp> model(1, 8);
  const std::vector<float> x{0.5f, -1, 2, 0.25f, 1, 1, -1, 0};
  const auto before = model.read_parameters();
  CHECK(guarded_step(model, x, {0, 2}, {1, 1, 1, 0.1}) == "");
  CHECK(model.read_parameters() == before);
}

TEST_CASE("an output that overflows names its layer, the step and the hint") {
  Model<Mlp> model(1, 8);
  // Layer 0 passes the input on (ReLU keeps it: it is positive); layer 2 sums it with weights 3e38.
  set_parameters(model, {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0,  //
                         3e38f, 3e38f, 3e38f, 3e38f, 3e38f, 3e38f, 3e38f, 3e38f, 3e38f, 3e38f, 3e38f, 3e38f, 0, 0, 0});
  const std::vector<float> x{1, 2, 3, 4, 4, 3, 2, 1};
  const auto before = model.read_parameters();
  const std::string m = guarded_step(model, x, {0, 1}, {37, 2, 5, 0.5});
  INFO(m);
  CHECK(m.find("ctnet: training diverged at training step 37 (epoch 2, batch 5, lr 0.5)") == 0);
  CHECK(m.find("the loss is NaN") != std::string::npos);
  CHECK(m.find("first non-finite output: layer 2 Linear(in_features=4, out_features=3) gives +Inf at sample 0") !=
        std::string::npos);
  CHECK(m.find("hint: the learning rate is probably too high") != std::string::npos);
  CHECK(m.find("weight decay") != std::string::npos);
  CHECK(model.read_parameters() == before);  // the check never updates
}

TEST_CASE("a non-finite parameter is named before anything runs on it") {
  Model<Mlp> model(1, 8);
  model.parameters()[std::size_t(parameter_offset<Model<Mlp>>("2.bias") + 1)] = kNaN;
  const std::string m = guarded_step(model, {1, 2, 3, 4}, {1}, {3, 1, 3, 0.01});
  INFO(m);
  CHECK(m.find("training step 3 (epoch 1, batch 3, lr 0.01)") != std::string::npos);
  CHECK(m.find("first non-finite parameter: '2.bias' (layer 2 Linear(in_features=4, out_features=3)) holds NaN at "
               "element 1") != std::string::npos);
}

TEST_CASE("a tensor of a nested layer names the nested layer and the top-level layer holding it") {
  using Net = Sequential<Input<4>, Residual<Seq<Linear<4>, ReLU>>, Linear<3>, LogSoftmax>;
  Model<Net> model(1, 8);
  model.parameters()[std::size_t(parameter_offset<Model<Net>>("0.0.0.weight") + 5)] = kInf;
  const std::string m = guarded_step(model, {1, 2, 3, 4}, {1}, {1, 1, 1, 0.01});
  INFO(m);
  CHECK(m.find("first non-finite parameter: '0.0.0.weight' (layer 0.0.0 Linear(in_features=4, out_features=4) inside "
               "layer 0 Residual) holds +Inf at element 5") != std::string::npos);
}

TEST_CASE("a NaN in the input batch is reported as the input data's fault") {
  Model<Mlp> model(1, 8);
  std::vector<float> x{1, 2, 3, 4, 4, 3, 2, 1, 0, 0, 0, 0};
  x[6] = kNaN;
  const std::string m = guarded_step(model, x, {0, 1, 2}, {12, 3, 4, 0.1});
  INFO(m);
  CHECK(m.find("training step 12 (epoch 3, batch 4, lr 0.1)") != std::string::npos);
  CHECK(m.find("first non-finite input: the input batch holds NaN at sample 1, element 2") != std::string::npos);
  CHECK(m.find("hint: check the input data") != std::string::npos);
}

TEST_CASE("a layer after a fused batch-norm chain is found, and the running statistics are restored") {
  Model<Chain> model(2, 4);
  const long w = parameter_offset<Model<Chain>>("4.weight");
  for (long i = 0; i < 3 * 8; ++i) model.parameters()[std::size_t(w + i)] = 3e38f;
  std::vector<float> x(3 * 16);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = float((i * 7) % 11) - 5;
  model.train();
  const float* out = model.forward(x.data(), 3);
  const std::vector<int> labels{0, 1, 2};
  const double loss = NLLLoss{}.forward(out, labels.data(), 3, 3);
  std::vector<float> grad(9);
  NLLLoss{}.backward(out, labels.data(), 3, 3, grad.data());
  model.zero_grad();
  model.backward(grad.data());
  const auto buffers = model.read_buffers();
  CHECK_THROWS_WITH_AS(check_training_step(model, loss, grad.data(), {1, 1, 1, 0.1}),
                       doctest::Contains("first non-finite output: layer 4 Linear(in_features=8, out_features=3)"),
                       NumericalError);
  CHECK(model.read_buffers() == buffers);
}

TEST_CASE("a running statistic that is not finite stops the step although loss and gradients are finite") {
  Model<Chain> model(2, 4);
  for (const NamedTensor& t : Model<Chain>::named_buffers())
    if (t.name == "1.running_var") model.buffers()[std::size_t(t.offset)] = kInf;
  std::vector<float> x(2 * 16);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = float((i * 5) % 7) - 3;
  const std::string m = guarded_step(model, x, {0, 1}, {2, 1, 2, 0.1});
  INFO(m);
  CHECK(m.find("but the buffers (running statistics) hold +Inf; first non-finite buffer: '1.running_var' (layer 1 "
               "BatchNorm2d(2)) holds +Inf at element 0") != std::string::npos);
}

TEST_CASE("a gradient that overflows in backward names the layer whose input gradient is non-finite") {
  Model<Pair> model(1, 1);
  // Layer 0 passes the input on; layer 1 maps it to logits (3e8, -3e8): finite forward, finite loss.
  set_parameters(model, {1, 0, 0, 1, 0, 0, 3e38f, -3e38f, -3e38f, 3e38f, 0, 0});
  const std::string m = guarded_step(model, {1e-30f, 0}, {1}, {8, 1, 8, 0.1});
  INFO(m);
  CHECK(m.find("the loss is finite (6e+08) but the gradient arena holds") != std::string::npos);
  CHECK(m.find("first non-finite gradient: layer 1 Linear(in_features=2, out_features=2) gives an input gradient "
               "with +Inf at sample 0, element 0") != std::string::npos);
}

TEST_CASE("Trainer stops at the step after an update that overflows, naming global step, epoch and batch") {
  using Net = Sequential<Input<1, 28, 28>, Conv2d<4, 3, Stride<2>>, ReLU, Flatten, Linear<10>, LogSoftmax>;
  const TestData data = test_data(64, 1);
  LoaderOptions lo;
  lo.batch_size = 16;  // 4 batches per epoch
  lo.seed = 1;
  DataLoader loader(data.train, lo);
  Model<Net> model(1, 16);
  SGD<float> sgd(0.01, 0.9);
  // Steps are counted from 0 by lr_at: step 5 (the 6th, epoch 2 batch 2) updates with an infinite rate.
  StepSchedule schedule{[](long step, int) { return step == 5 ? std::numeric_limits<double>::infinity() : 0.01; }, {}};
  std::ostringstream quiet;
  ProgressBar progress(quiet, ProgressBar::Mode::off);
  Trainer<Model<Net>, NLLLoss> trainer(model, NLLLoss{}, progress);
  CHECK(std::isfinite(trainer.train_epoch(loader, sgd, schedule, 1, "e").train.loss));
  std::string m;
  try {
    trainer.train_epoch(loader, sgd, schedule, 2, "e");
  } catch (const NumericalError& e) {
    m = e.what();
  }
  INFO(m);
  CHECK(m.find("training diverged at training step 7 (epoch 2, batch 3, lr 0.01)") != std::string::npos);
  CHECK(m.find("first non-finite parameter: '0.weight' (layer 0 Conv2d(1, 4, kernel_size=3, stride=2)) holds ") !=
        std::string::npos);
  CHECK(m.find("hint: the learning rate is probably too high") != std::string::npos);
  CHECK(trainer.global_step() == 6);  // the failing step neither counted nor updated
}

TEST_CASE("evaluation stops at a non-finite loss, naming the batch and the output") {
  const std::vector<float> out{-1, -2, kNaN, -3, -0.5f, -1};  // Mlp's [2 x 3] output
  CHECK_NOTHROW(check_evaluation_batch<Mlp>(1.5, 1, out.data(), 2));
  CHECK_THROWS_WITH_AS(check_evaluation_batch<Mlp>(std::nan(""), 4, out.data(), 2),
                       doctest::Contains("evaluation diverged at batch 4: the loss is NaN; the network's output holds "
                                         "NaN at sample 0, element 2"),
                       NumericalError);
}

TEST_CASE("save_checkpoint refuses parameters, buffers and extra tensors holding NaN or Inf, writing nothing") {
  const std::string path = temp_path("save.safetensors");
  std::filesystem::remove(path);
  {
    Model<Chain> model(1, 4);
    model.parameters()[std::size_t(parameter_offset<Model<Chain>>("4.weight") + 7)] = -kInf;
    const std::string want = "refusing to save '" + path + "': tensor '4.weight' holds -Inf at element 7 of 24";
    CHECK_THROWS_WITH_AS(save_checkpoint(model, path), doctest::Contains(want.c_str()), NumericalError);
    CHECK_FALSE(std::filesystem::exists(path));
  }
  {
    Model<Chain> model(1, 4);
    for (const NamedTensor& t : Model<Chain>::named_buffers())
      if (t.name == "1.running_var") model.buffers()[std::size_t(t.offset + 1)] = kNaN;
    CHECK_THROWS_WITH_AS(save_checkpoint(model, path),
                         doctest::Contains("tensor '1.running_var' holds NaN at element 1"), NumericalError);
    CHECK_FALSE(std::filesystem::exists(path));
  }
  {
    Model<Chain> model(1, 4);
    const std::vector<float> momentum{0, 1, kInf};
    CheckpointExtras extras;
    extras.float_tensors.push_back({"optimizer.momentum", &momentum});
    CHECK_THROWS_WITH_AS(save_checkpoint(model, path, extras),
                         doctest::Contains("tensor 'optimizer.momentum' holds +Inf at element 2"), NumericalError);
    CHECK_FALSE(std::filesystem::exists(path));
    save_checkpoint(model, path);  // finite: saved
    CHECK(std::filesystem::exists(path));
    std::filesystem::remove(path);
  }
}

TEST_CASE("load_checkpoint refuses a file holding a NaN, naming the tensor and the element") {
  const std::string good = temp_path("good.safetensors"), bad = temp_path("bad.safetensors");
  Model<Chain> saved(5, 4);
  save_checkpoint(saved, good);
  // The same file with element 3 of '0.weight' replaced by NaN, written by the plain safetensors writer.
  SafetensorsFile file = load_safetensors(good);
  std::vector<TensorView> views;
  for (TensorRecord& r : file.tensors) {
    if (r.name == "0.weight") std::memcpy(r.bytes.data() + 3 * sizeof(float), &kNaN, sizeof(float));
    views.push_back({r.name, r.dtype, r.shape, r.bytes.data(), r.bytes.size()});
  }
  save_safetensors(bad, views, file.metadata);
  Model<Chain> model(6, 4);
  const auto before = model.read_parameters();
  const std::string want = "'" + bad + "': tensor '0.weight' holds NaN at element 3 of 18";
  CHECK_THROWS_WITH_AS(load_checkpoint(model, bad), doctest::Contains(want.c_str()), CheckpointError);
  CHECK(model.read_parameters() == before);  // nothing was loaded
  CHECK_NOTHROW(load_checkpoint(model, good));
  CHECK(model.read_parameters() == saved.read_parameters());
  std::filesystem::remove(good);
  std::filesystem::remove(bad);
}
