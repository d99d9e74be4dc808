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

#include "../core/compiled.hpp"
#include "../core/error.hpp"
#include "../data/loader.hpp"
#include "checkpoint.hpp"
#include "optimizer.hpp"

namespace ctnet {

inline constexpr const char* training_state_format = "ctnet-training-state";
inline constexpr const char* training_state_version = "1";
// A run's options are kept as metadata under this prefix, one key per option name.
inline constexpr std::string_view training_state_option_prefix = "train.option.";

// Taken between epochs: `epoch` epochs are complete and the optimizer has taken `global_step` steps.
struct TrainingCounters {
  long epoch = 0;
  long global_step = 0;
};

// Per-epoch figures a resumed run needs to report on the whole run (never timings: they would make the file
// depend on the clock).
struct TrainingHistory {
  std::vector<std::string> columns;       // names without commas
  std::vector<std::vector<double>> rows;  // one per completed epoch, columns.size() values each
};

// What makes a resumed run the same run: the program and the options that decide its numbers, in order.
struct RunIdentity {
  std::string program;
  std::vector<std::pair<std::string, std::string>> options;  // {"--epochs", "4"}, ...
};

struct TrainingRecord {
  RunIdentity run;
  TrainingCounters counters;
  TrainingHistory history;
  std::map<std::string, std::string> user_metadata;  // saved as "user.<key>", as save_checkpoint does
};

struct TrainingState {
  TrainingCounters counters;
  TrainingHistory history;
  std::map<std::string, std::string> metadata;  // everything the file's header holds
};

// The shortest decimal text that reads back as the same number.
inline std::string exact_text(double v) {
  char text[64];
  return std::string(text, std::to_chars(text, text + sizeof text, v).ptr);
}
inline std::string exact_text(float v) {
  char text[64];
  return std::string(text, std::to_chars(text, text + sizeof text, v).ptr);
}

// 64 bits of a data set's shape, pixels and labels, as 16 hex digits: catches changed data, not an adversary.
CTNET_COLD std::string dataset_fingerprint(const Dataset& d);

namespace detail {

// What decides a loader's epochs; the data set's keys come last (a mismatch there is a DataError).
CTNET_COLD std::vector<std::pair<std::string, std::string>> loader_settings(const DataLoader& loader);

class StateReader {
 public:
  StateReader(const SafetensorsFile& file, const std::string& path) : file_(file), path_(path) {}

  const std::string* find(const std::string& key) const {
    const auto it = file_.metadata.find(key);
    return it == file_.metadata.end() ? nullptr : &it->second;
  }
  const std::string& need(const std::string& key) const {
    if (const std::string* v = find(key)) return *v;
    fail("has no metadata '" + key + "' (saved by another version of ctnet?)");
  }
  long count(const std::string& key) const {
    const std::string& text = need(key);
    long v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v < 0)
      fail("metadata '" + key + "' is not a count: '" + text + "'");
    return v;
  }
  double number(const std::string& key) const {
    const std::string& text = need(key);
    double v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size())
      fail("metadata '" + key + "' is not a number: '" + text + "'");
    return v;
  }
  [[noreturn]] void fail(const std::string& what) const { throw CheckpointError("'" + path_ + "' " + what); }
  std::string differs(const std::string& what, const std::string& saved, const std::string& now,
                      const char* here) const {
    return what + ": the run saved in '" + path_ + "' has " + saved + ", " + here + " has " + now +
           " (a resumed run must keep the settings it was started with)";
  }

 private:
  const SafetensorsFile& file_;
  const std::string& path_;
};

CTNET_COLD std::vector<std::string> split_columns(const std::string& text);

}  // namespace detail

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

#if CTNET_COLD_BODIES
namespace ctnet {

CTNET_COLD std::string dataset_fingerprint(const Dataset& d) {
  std::uint64_t h = 0x9E3779B97F4A7C15ull;
  const auto mix = [&h](std::uint64_t w) {
    h = (h ^ w) * 0xFF51AFD7ED558CCDull;
    h ^= h >> 32;
  };
  const auto bytes = [&mix](const std::vector<std::uint8_t>& v) {
    std::size_t i = 0;
    for (; i + 8 <= v.size(); i += 8) {
      std::uint64_t w;
      std::memcpy(&w, v.data() + i, 8);
      mix(w);
    }
    std::uint64_t tail = 0;
    for (std::size_t k = 0; i + k < v.size(); ++k) tail |= std::uint64_t(v[i + k]) << (8 * k);
    mix(tail);
    mix(v.size());
  };
  mix((std::uint64_t(std::uint32_t(d.count)) << 32) ^ (std::uint64_t(std::uint32_t(d.rows)) << 16) ^
      std::uint64_t(std::uint32_t(d.cols)));
  bytes(d.images);
  bytes(d.labels);
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) out[std::size_t(i)] = digits[h & 15];
  return out;
}

namespace detail {

CTNET_COLD std::vector<std::pair<std::string, std::string>> loader_settings(const DataLoader& loader) {
  const LoaderOptions& o = loader.options();
  const Dataset& d = loader.dataset();
  std::string augment = "none";
  if (o.augment) {
    const RandomAffine& a = *o.augment;
    augment = "degrees " + exact_text(a.degrees) + ", translate " + exact_text(a.translate_x) + " " +
              exact_text(a.translate_y) + ", scale " + exact_text(a.scale_min) + " " + exact_text(a.scale_max) +
              ", shear " + exact_text(a.shear);
  }
  return {{"loader.seed", std::to_string(o.seed)},
          {"loader.batch_size", std::to_string(o.batch_size)},
          {"loader.shuffle", o.shuffle ? "true" : "false"},
          {"loader.drop_last", o.drop_last ? "true" : "false"},
          {"loader.augment", augment},
          {"loader.normalize", "mean " + exact_text(o.normalize.mean) + ", std " + exact_text(o.normalize.std)},
          {"loader.samples", std::to_string(d.count)},
          {"loader.image", std::to_string(d.rows) + "x" + std::to_string(d.cols)},
          {"loader.data_fingerprint", dataset_fingerprint(d)}};
}

CTNET_COLD std::vector<std::string> split_columns(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size() && !text.empty()) {
    const std::size_t comma = text.find(',', start);
    out.push_back(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace detail

}  // namespace ctnet
#endif  // CTNET_COLD_BODIES
