// ctnet/train/training_state.hpp — the whole state of a training run in one safetensors file, so that a run
// killed at any moment resumes to exactly the bits it would have reached uninterrupted.
//
// Requires: a Model (any backend: tensors travel through the host); an optimizer with optimizer.hpp's state
// accessors (SGD, Adam, AdamW); the DataLoader of the training data; the run's counters, taken between epochs.
// Guarantees: save_training_state writes, through save_checkpoint (atomic replace, file and directory fsynced),
// a ctnet checkpoint that load_checkpoint, mnist_predict, NumPy and PyTorch read as usual, plus
//   tensors   optimizer.<buffer>  PyTorch's names (momentum_buffer, exp_avg, exp_avg_sq), the optimizer's dtype;
//                                 absent while the optimizer has not created it, as in PyTorch
//             train.history       F64 [epochs x columns]: the caller's per-epoch figures
//   metadata  train.*      format, version, program, options, epoch, global_step, history columns
//             optimizer.*  kind, step, every hyper-parameter;  loader.*  seed, batch, shuffle, drop_last,
//                          augmentation, normalisation, samples, image size, data fingerprint
// besides the model's own "seed" and "step" (the dropout counter). Values are exact (integers, shortest
// round-trip decimals) and nothing comes from the clock, so the file is a pure function of the run. Nothing
// else needs storing: an epoch's shuffle and augmentation are functions of (loader seed, epoch), dropout
// masks of (model seed, model step), and schedule.hpp's schedules of (global_step, epoch).
// load_training_state checks everything before it changes anything: a ctnet training state (else
// CheckpointError naming the path), of run.program (CheckpointError), with run's options (OptionError naming
// the option and both values), of this architecture (CheckpointError naming the first differing layer), for
// this kind of optimizer (CheckpointError) with the same fixed hyper-parameters and loader settings
// (OptionError), on the same training data (DataError). Then it restores the model (parameters, buffers,
// step), the optimizer (buffers, step, and lr and momentum, the values schedules set) and returns the
// counters and history; the caller continues at epoch counters.epoch + 1 with counters.global_step.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../data/loader.hpp"
#include "checkpoint.hpp"
#include "optimizer.hpp"
#include "training_state_format.hpp"

namespace ctnet {

template <class M, class Optimizer>
[[gnu::cold]] void save_training_state(const std::string& path, const M& model, const Optimizer& optimizer,
                                       const DataLoader& loader, const TrainingRecord& record) {
  using O = typename Optimizer::scalar;
  CheckpointExtras extras;
  extras.metadata = record.user_metadata;
  auto& meta = extras.state_metadata;
  meta["train.format"] = training_state_format;
  meta["train.version"] = training_state_version;
  meta["train.program"] = record.run.program;
  for (const auto& [name, value] : record.run.options) meta[std::string(training_state_option_prefix) + name] = value;
  meta["train.epoch"] = std::to_string(record.counters.epoch);
  meta["train.global_step"] = std::to_string(record.counters.global_step);

  const TrainingHistory& h = record.history;
  std::vector<double> history;
  std::string columns;
  for (const std::string& c : h.columns) {
    if (c.empty() || c.find(',') != std::string::npos)
      throw Error("save_training_state: history column name '" + c + "' is empty or holds a comma");
    columns += (columns.empty() ? "" : ",") + c;
  }
  for (const auto& row : h.rows) {
    if (row.size() != h.columns.size())
      throw Error("save_training_state: a history row of " + std::to_string(row.size()) + " values for " +
                  std::to_string(h.columns.size()) + " columns");
    history.insert(history.end(), row.begin(), row.end());
  }
  meta["train.history_columns"] = columns;
  if (!h.rows.empty())
    extras.tensors.push_back({"train.history", "F64", {std::int64_t(h.rows.size()), std::int64_t(h.columns.size())},
                              history.data(), history.size() * sizeof(double)});

  meta["optimizer"] = Optimizer::name;
  meta["optimizer.step"] = std::to_string(optimizer.step_count());
  for (const auto& [name, value] : optimizer.hyperparameters()) meta["optimizer." + name] = exact_text(value);
  for (const auto& [name, buffer] : optimizer.state())
    if (!buffer->empty())
      extras.tensors.push_back({"optimizer." + name, detail::dtype_name<O>(), {std::int64_t(buffer->size())},
                                buffer->data(), buffer->size() * sizeof(O)});
  for (const auto& [key, value] : detail::loader_settings(loader)) meta[key] = value;
  save_checkpoint(model, path, extras);
}

template <class M, class Optimizer>
[[gnu::cold]] TrainingState load_training_state(const std::string& path, M& model, Optimizer& optimizer,
                                                const DataLoader& loader, const RunIdentity& run) {
  using O = typename Optimizer::scalar;
  using Net = typename M::network;
  const SafetensorsFile file = load_safetensors(path);
  const detail::StateReader r(file, path);
  const std::string* format = r.find("format");
  if (!format || *format != "ctnet") r.fail("is a safetensors file but not a ctnet checkpoint (no format=ctnet)");
  const std::string* state_format = r.find("train.format");
  if (!state_format || *state_format != training_state_format)
    r.fail("is a ctnet checkpoint but not a training state (no train.* metadata: it holds a model only, "
           "without optimizer state or counters)");
  if (r.need("train.version") != training_state_version)
    r.fail("is a training state of version " + r.need("train.version") + "; this ctnet reads version " +
           training_state_version);
  if (r.need("train.program") != run.program)
    r.fail("is the training state of a " + r.need("train.program") + " run, not of " + run.program);

  // The options before the architecture: an option that changes the network deserves its own name.
  for (const auto& [name, value] : run.options) {
    const std::string* saved = r.find(std::string(training_state_option_prefix) + name);
    // Not recorded: saved at its default (an optional option), or by a version without it, which ran so.
    if (!saved) throw OptionError(r.differs(name, "its default", value, "this run"));
    if (*saved != value) throw OptionError(r.differs(name, *saved, value, "this run"));
  }
  // An option recorded only when it is not its default (a program's optional ones): the saved run had it.
  for (const auto& [key, value] : file.metadata) {
    if (!key.starts_with(training_state_option_prefix)) continue;
    const std::string name = key.substr(training_state_option_prefix.size());
    const auto same_name = [&](const auto& option) { return option.first == name; };
    if (std::none_of(run.options.begin(), run.options.end(), same_name))
      throw OptionError(r.differs(name, value, "its default", "this run"));
  }

  const std::string arch = architecture_text<Net>();
  if (r.need("fingerprint") != fingerprint_of(arch))
    r.fail("was saved from a different architecture: " + detail::first_difference(r.need("architecture"), arch));

  // The optimizer: its kind and fixed hyper-parameters must match; lr and momentum are what schedules set.
  if (r.need("optimizer") != Optimizer::name)
    r.fail("holds " + r.need("optimizer") + " optimizer state; this run's optimizer is " + Optimizer::name);
  const long optimizer_step = r.count("optimizer.step");
  double lr = 0, momentum = 0;
  for (const auto& [name, value] : optimizer.hyperparameters()) {
    const double saved = r.number("optimizer." + name);
    if (name == "lr") {
      lr = saved;
    } else if (name == Optimizer::momentum_option) {
      momentum = saved;
    } else if (saved != value) {
      throw OptionError(r.differs(std::string(Optimizer::name) + " " + name, r.need("optimizer." + name),
                                  exact_text(value), "this optimizer"));
    }
  }
  std::vector<std::vector<O>> buffers;
  std::size_t known = 0;
  for (const auto& [name, buffer] : std::as_const(optimizer).state()) {
    buffers.emplace_back();
    const TensorRecord* t = file.find("optimizer." + name);
    if (!t) continue;
    ++known;
    const std::vector<std::int64_t> want{M::parameter_count};
    if (t->dtype != detail::dtype_name<O>() || t->shape != want)
      r.fail("tensor '" + t->name + "' is " + t->dtype + " " + detail::shape_string(t->shape) + "; this optimizer " +
             "needs " + detail::dtype_name<O>() + " " + detail::shape_string(want));
    buffers.back().resize(std::size_t(M::parameter_count));
    std::memcpy(buffers.back().data(), t->bytes.data(), t->bytes.size());
  }
  std::size_t stored = 0;
  for (const TensorRecord& t : file.tensors) stored += t.name.rfind("optimizer.", 0) == 0;
  if (stored != known) r.fail("holds optimizer tensors that " + std::string(Optimizer::name) + " does not have");

  for (const auto& [key, value] : detail::loader_settings(loader)) {
    const std::string& saved = r.need(key);
    if (saved == value) continue;
    if (key == "loader.samples" || key == "loader.image" || key == "loader.data_fingerprint")
      throw DataError("'" + path + "' was saved training on other data: " + key + " is " + saved + " there, " +
                      value + " for this training set");
    throw OptionError(r.differs(key, saved, value, "this loader"));
  }
  if (r.need("seed") != std::to_string(model.seed()))
    throw OptionError(r.differs("model seed", r.need("seed"), std::to_string(model.seed()), "this model"));
  r.count("step");  // restore_checkpoint reads it; checked here so that it cannot fail half-way

  TrainingState state;
  state.counters.epoch = r.count("train.epoch");
  state.counters.global_step = r.count("train.global_step");
  state.history.columns = detail::split_columns(r.need("train.history_columns"));
  if (const TensorRecord* t = file.find("train.history")) {
    const std::int64_t cols = std::int64_t(state.history.columns.size());
    if (t->dtype != "F64" || t->shape.size() != 2 || t->shape[1] != cols)
      r.fail("tensor 'train.history' is " + t->dtype + " " + detail::shape_string(t->shape) + "; expected F64 [rows, " +
             std::to_string(cols) + "]");
    const std::vector<double> values = t->as_f64();
    for (std::int64_t i = 0; i < t->shape[0]; ++i)
      state.history.rows.emplace_back(values.begin() + i * cols, values.begin() + (i + 1) * cols);
  }
  state.metadata = file.metadata;

  restore_checkpoint(model, file, path);
  optimizer.reset_state();
  const auto target = optimizer.state();
  for (std::size_t i = 0; i < target.size(); ++i) *target[i].second = std::move(buffers[i]);
  optimizer.set_step_count(optimizer_step);
  optimizer.set_lr(lr);
  optimizer.set_momentum(momentum);
  return state;
}

}  // namespace ctnet
