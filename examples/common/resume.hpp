// examples/common/resume.hpp — --save and --resume for the MNIST examples on the CPU: what makes a resumed
// run the same run, and the per-epoch figures its training state keeps (ctnet/train/training_state.hpp).
//
// Requires: options parsed by parse_options. Guarantees: run_identity lists every option that decides a run's
// numbers (so a resume that changes one is refused, naming it); --data, --threads, --csv, --progress and
// --save are free to change (the data is checked by its fingerprint, and results do not depend on the
// thread count). The history columns hold every figure of an epoch but its seconds.
#pragma once

#include <iostream>
#include <string>
#include <vector>

#include <ctnet/core/error.hpp>
#include <ctnet/train/training_state.hpp>

#include "options.hpp"
#include "compiled.hpp"
#include "report.hpp"

namespace examples {

// The options every run records.
CTNET_EXAMPLES_COLD ctnet::RunIdentity numbers_identity(const RunOptions& o, const MnistExampleConfig& c);

CTNET_EXAMPLES_COLD ctnet::RunIdentity run_identity(const RunOptions& o, const MnistExampleConfig& c);

// Where the state goes after every epoch: --save, else the file being resumed.
inline std::string state_path(const RunOptions& o) { return o.save.empty() ? o.resume : o.save; }

inline std::vector<std::string> figure_columns() {
  return {"train_loss", "train_correct", "train_total", "test_loss", "test_correct", "test_total", "lr"};
}

inline std::vector<double> figure_row(const EpochFigures& f) {
  return {f.train_loss, double(f.train_correct), double(f.train_total), f.test_loss,
          double(f.test_correct), double(f.test_total), f.lr};
}

// The saved history as per-epoch figures: one row per completed epoch, in the columns above.
CTNET_EXAMPLES_COLD std::vector<std::vector<double>> history_rows(const ctnet::TrainingState& s,
                                                                  const std::string& path,
                                                                  const std::vector<std::string>& columns);

CTNET_EXAMPLES_COLD std::vector<EpochFigures> resumed_figures(const ctnet::TrainingState& s, const std::string& path);

// Says where a resumed run stands; false when it is already complete (nothing left to train).
CTNET_EXAMPLES_COLD bool announce_resume(std::ostream& out, const RunOptions& o, long done);

}  // namespace examples

#if CTNET_EXAMPLES_COLD_BODIES
namespace examples {

CTNET_EXAMPLES_COLD ctnet::RunIdentity numbers_identity(const RunOptions& o, const MnistExampleConfig& c) {
  using ctnet::exact_text;
  const auto limit = [](long n) { return n ? std::to_string(n) : std::string("all"); };
  return {c.name,
          {{"--epochs", std::to_string(o.epochs)},
           {"--batch", std::to_string(o.batch)},
           {"--lr", exact_text(o.lr)},
           {"--schedule", o.schedule},
           {"--weight-decay", exact_text(o.weight_decay)},
           {"--rotation", exact_text(o.rotation)},
           {"--translate", exact_text(o.translate)},
           {"--seed", std::to_string(o.seed)},
           {"--train-limit", limit(o.train_limit)},
           {"--test-limit", limit(o.test_limit)},
           {"momentum", exact_text(c.momentum)},
           {"step_size", std::to_string(c.step_size)}}};
}

CTNET_EXAMPLES_COLD ctnet::RunIdentity run_identity(const RunOptions& o, const MnistExampleConfig& c) {
  ctnet::RunIdentity id = numbers_identity(o, c);
  // Only when it is not the default, so that the states of earlier runs still resume.
  if (o.batch_norm != "replica") id.options.push_back({"--batch-norm", o.batch_norm});
  if (o.validation) id.options.push_back({"--validation", std::to_string(o.validation)});
  if (o.scale > 0) id.options.push_back({"--scale", ctnet::exact_text(o.scale)});
  return id;
}

CTNET_EXAMPLES_COLD std::vector<std::vector<double>> history_rows(const ctnet::TrainingState& s,
                                                                  const std::string& path,
                                                                  const std::vector<std::string>& columns) {
  if (s.history.columns != columns || s.history.rows.size() != std::size_t(s.counters.epoch))
    throw ctnet::CheckpointError("'" + path + "': the training state's history holds " +
                                 std::to_string(s.history.rows.size()) + " rows of " +
                                 std::to_string(s.history.columns.size()) + " columns for " +
                                 std::to_string(s.counters.epoch) + " epochs of " + std::to_string(columns.size()));
  return s.history.rows;
}

CTNET_EXAMPLES_COLD std::vector<EpochFigures> resumed_figures(const ctnet::TrainingState& s, const std::string& path) {
  std::vector<EpochFigures> out;
  for (const auto& r : history_rows(s, path, figure_columns())) {
    EpochFigures f;
    f.train_loss = r[0];
    f.train_correct = long(r[1]);
    f.train_total = long(r[2]);
    f.test_loss = r[3];
    f.test_correct = long(r[4]);
    f.test_total = long(r[5]);
    f.lr = r[6];
    f.images = f.train_total;
    out.push_back(f);
  }
  return out;
}

CTNET_EXAMPLES_COLD bool announce_resume(std::ostream& out, const RunOptions& o, long done) {
  if (done >= o.epochs) {
    out << "the run saved in " << o.resume << " is already complete (" << done << " of " << o.epochs
        << " epochs): nothing to resume\n";
    return false;
  }
  out << "resuming the run saved in " << o.resume << " after epoch " << done << " of " << o.epochs
      << "; saving to " << state_path(o) << "\n\n";
  return true;
}

}  // namespace examples
#endif  // CTNET_EXAMPLES_COLD_BODIES
