// Training states: N epochs in one go and k epochs, save, load into fresh objects, N - k more give the same
// bits (SGD with momentum, Adam, AdamW); the file is a checkpoint as usual; every mismatch is refused with a
// message that names it.
#include "support/helpers.hpp"

#include <ctnet/train/loss.hpp>
#include <ctnet/train/schedule.hpp>
#include <ctnet/train/trainer.hpp>
#include <ctnet/train/training_state.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <unistd.h>

#include "support/data.hpp"

using namespace ctnet;
using namespace ctnet::testing;

namespace {

// BatchNorm (running statistics), Dropout (the model's step) and an augmenting, shuffling loader: every kind
// of state a run carries.
using Net = Sequential<Input<1, 28, 28>, Conv2d<4, 3, NoBias>, BatchNorm2d, ReLU, MaxPool2d<4>, Dropout<0.2f>,
                       Flatten, Linear<10>, LogSoftmax>;
using Other = Sequential<Input<1, 28, 28>, Conv2d<4, 3, NoBias>, BatchNorm2d, ReLU, MaxPool2d<4>, Dropout<0.2f>,
                         Flatten, Linear<10, NoBias>, LogSoftmax>;

constexpr int epochs = 4;

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("ctnet_state_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

doctest::Contains has(const std::string& text) { return doctest::Contains(text.c_str()); }

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

Dataset train_data() { return generated_digits(96, 3); }

LoaderOptions loader_options(int batch = 32) {
  LoaderOptions o;
  o.batch_size = batch;
  o.seed = 7;
  o.augment = RandomAffine(10.0f, 0.1f, 0.1f);
  return o;
}

RunIdentity identity(const std::string& epochs_text = "4") { return {"state_test", {{"--epochs", epochs_text}}}; }

template <class Opt>
Opt make_optimizer();
template <>
SGD<float> make_optimizer() {
  return SGD<float>(0.05, 0.9, 0, 1e-4);
}
template <>
Adam<float> make_optimizer() {
  return Adam<float>(1e-3, 0.9, 0.999, 1e-8, 1e-4);
}
template <>
AdamW<float> make_optimizer() {
  return AdamW<float>(1e-3);
}

// Trains epochs [from + 1, to] of one run, resuming from `resume` when given, saving after every epoch.
template <class Opt>
void train(int from, int to, const std::string& save, const std::string& resume = {}) {
  const Dataset data = train_data();
  DataLoader loader(data, loader_options());
  Model<Net> model(5, 32);
  Opt optimizer = make_optimizer<Opt>();
  OneCycleLR::Options oc;
  oc.max_lr = optimizer.lr();
  oc.total_steps = long(loader.batches_per_epoch()) * epochs;
  const OneCycleLR one_cycle(oc);  // cycles momentum (SGD) or beta1 (Adam), so both are restored state
  StepSchedule schedule{[&](long step, int) { return one_cycle.lr_at(step); },
                        [&](long step, int) { return one_cycle.momentum_at(step); }};
  std::ostringstream quiet;
  ProgressBar progress(quiet, ProgressBar::Mode::off);
  Trainer<Model<Net>, NLLLoss> trainer(model, NLLLoss{}, progress);
  TrainingRecord record{identity(), {}, {{"train_loss", "lr"}, {}}, {{"example", "state_test"}}};
  if (!resume.empty()) {
    const TrainingState s = load_training_state(resume, model, optimizer, loader, identity());
    REQUIRE(s.counters.epoch == from);
    trainer.set_global_step(s.counters.global_step);
    record.history = s.history;
  }
  for (int epoch = from + 1; epoch <= to; ++epoch) {
    const EpochResult r = trainer.train_epoch(loader, optimizer, schedule, epoch, "e");
    record.history.rows.push_back({r.train.loss, r.lr});
    record.counters = TrainingCounters{epoch, trainer.global_step()};
    save_training_state(save, model, optimizer, loader, record);
  }
}

template <class Opt>
void check_resume_is_exact(const std::string& name) {
  const std::string whole = temp_path(name + "_whole"), part = temp_path(name + "_part");
  train<Opt>(0, epochs, whole);
  const std::string a = file_bytes(whole);
  REQUIRE(!a.empty());
  // Stopped after epoch 2 and resumed once; then stopped and resumed after every epoch.
  train<Opt>(0, 2, part);
  train<Opt>(2, epochs, part, part);
  CHECK(file_bytes(part) == a);  // every tensor and every counter, byte for byte
  std::filesystem::remove(part);
  for (int k = 0; k < epochs; ++k) train<Opt>(k, k + 1, part, k > 0 ? part : std::string());
  CHECK(file_bytes(part) == a);
  // The last file is an ordinary checkpoint too, with the optimizer's buffers as PyTorch names them.
  Model<Net> model(99, 8);
  const SafetensorsFile f = load_checkpoint(model, whole);
  CHECK(f.metadata.at("train.epoch") == std::to_string(epochs));
  CHECK(f.metadata.at("optimizer") == Opt::name);
  for (const auto& [buffer, values] : make_optimizer<Opt>().state()) {
    const TensorRecord* t = f.find("optimizer." + buffer);
    REQUIRE(t);
    CHECK(t->dtype == "F32");
    CHECK(t->shape == std::vector<std::int64_t>{Net::parameter_count});
  }
  REQUIRE(f.find("train.history"));
  CHECK(f.find("train.history")->shape == std::vector<std::int64_t>{epochs, 2});
  std::filesystem::remove(whole);
  std::filesystem::remove(part);
}

}  // namespace

TEST_CASE("SGD with momentum: a resumed run ends with the bits of the uninterrupted one") {
  check_resume_is_exact<SGD<float>>("sgd");
}

TEST_CASE("Adam: a resumed run ends with the bits of the uninterrupted one") {
  check_resume_is_exact<Adam<float>>("adam");
}

TEST_CASE("AdamW: a resumed run ends with the bits of the uninterrupted one") {
  check_resume_is_exact<AdamW<float>>("adamw");
}

TEST_CASE("a training state restores every counter and buffer into fresh objects") {
  const std::string path = temp_path("fields");
  train<SGD<float>>(0, 2, path);
  const Dataset data = train_data();
  DataLoader loader(data, loader_options());
  Model<Net> model(5, 32);
  SGD<float> sgd = make_optimizer<SGD<float>>();
  const TrainingState s = load_training_state(path, model, sgd, loader, identity());
  std::filesystem::remove(path);
  CHECK(s.counters.epoch == 2);
  CHECK(s.counters.global_step == 2 * loader.batches_per_epoch());
  CHECK(sgd.step_count() == 2 * loader.batches_per_epoch());
  CHECK(model.step() == std::uint64_t(2 * loader.batches_per_epoch()));
  CHECK(sgd.state()[0].second->size() == std::size_t(Net::parameter_count));
  CHECK(sgd.momentum() != 0.9);  // OneCycleLR moved it, and the saved value came back
  CHECK(s.history.columns == std::vector<std::string>{"train_loss", "lr"});
  CHECK(s.history.rows.size() == 2);
}

TEST_CASE("a state that is not this run's is refused with a message naming what differs") {
  const std::string path = temp_path("refuse");
  train<SGD<float>>(0, 1, path);
  const Dataset data = train_data();
  DataLoader loader(data, loader_options());
  Model<Net> model(5, 32);
  SGD<float> sgd = make_optimizer<SGD<float>>();
  const auto load = [&](const RunIdentity& run) { load_training_state(path, model, sgd, loader, run); };
  const std::vector<float> before = model.read_parameters();

  CHECK_THROWS_WITH_AS(load(identity("5")),
                       ("ctnet: --epochs: the run saved in '" + path + "' has 4, this run has 5 (a resumed run must "
                        "keep the settings it was started with)")
                           .c_str(),
                       OptionError);
  CHECK_THROWS_WITH_AS(load({"other_program", {{"--epochs", "4"}}}),
                       ("ctnet: '" + path + "' is the training state of a state_test run, not of other_program")
                           .c_str(),
                       CheckpointError);
  // An option recorded on one side only: the other ran it at its default (an optional option, or a version
  // without it).
  CHECK_THROWS_WITH_AS(load({"state_test", {{"--epochs", "4"}, {"--batch", "32"}}}),
                       ("ctnet: --batch: the run saved in '" + path + "' has its default, this run has 32 (a resumed "
                        "run must keep the settings it was started with)")
                           .c_str(),
                       OptionError);
  CHECK_THROWS_WITH_AS(load({"state_test", {}}),
                       has("--epochs: the run saved in '" + path + "' has 4, this run has its default"),
                       OptionError);

  SGD<float> other_decay(0.05, 0.9, 0, 0);
  CHECK_THROWS_WITH_AS(load_training_state(path, model, other_decay, loader, identity()),
                       has("SGD weight_decay: the run saved in '" + path + "' has 1e-04, this "
                                         "optimizer has 0"),
                       OptionError);
  Adam<float> adam;
  CHECK_THROWS_WITH_AS(load_training_state(path, model, adam, loader, identity()),
                       doctest::Contains("holds SGD optimizer state; this run's optimizer is Adam"), CheckpointError);
  DataLoader other_batch(data, loader_options(16));
  CHECK_THROWS_WITH_AS(load_training_state(path, model, sgd, other_batch, identity()),
                       has("loader.batch_size: the run saved in '" + path + "' has 32, this loader "
                                         "has 16"),
                       OptionError);
  Dataset changed = data;
  changed.images[100] ^= 1;
  DataLoader other_data(changed, loader_options());
  CHECK_THROWS_WITH_AS(load_training_state(path, model, sgd, other_data, identity()),
                       doctest::Contains("was saved training on other data: loader.data_fingerprint is"), DataError);
  Model<Net> other_seed(6, 32);
  CHECK_THROWS_WITH_AS(load_training_state(path, other_seed, sgd, loader, identity()),
                       has("model seed: the run saved in '" + path + "' has 5, this model has 6"),
                       OptionError);
  Model<Other> other_net(5, 32);
  CHECK_THROWS_WITH_AS(load_training_state(path, other_net, sgd, loader, identity()),
                       doctest::Contains("was saved from a different architecture: the file has '"),
                       CheckpointError);
  // Nothing was changed by the refused loads.
  CHECK(model.read_parameters() == before);
  CHECK(sgd.step_count() == 0);

  // A plain checkpoint is a model, not a training state.
  save_checkpoint(model, path);
  CHECK_THROWS_WITH_AS(load(identity()), ("ctnet: '" + path + "' is a ctnet checkpoint but not a training state (no "
                                          "train.* metadata: it holds a model only, without optimizer state or "
                                          "counters)")
                                             .c_str(),
                       CheckpointError);
  std::filesystem::remove(path);
  CHECK_THROWS_WITH_AS(load(identity()), has("safetensors file '" + path + "': cannot open"),
                       CheckpointError);
}
