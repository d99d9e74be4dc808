// examples/common/report.hpp — what an MNIST example prints and writes: the per-epoch line, the CSV log,
// the closing summary (best/last accuracy, fit) and the final JSON line. Shared by the CPU driver
// (mnist_example.hpp) and the CUDA driver (examples/cuda), so it includes neither Eigen nor CUDA.
//
// Requires: options parsed by parse_options. Guarantees: the constructor opens the CSV file (or throws
// OptionError before any training); epoch() prints one line and appends one CSV row, flushed. A resumed run
// passes the figures of the epochs already done: the CSV is rewritten (atomically) with their rows, from the
// saved figures and with the old file's seconds where it has that row, so after the run it equals the
// uninterrupted run's log except the seconds column; best, last and the accuracy list cover the whole run
// (the JSON line's seconds are this process's). The JSON line has example, parameters, epochs, seed,
// threads, per-epoch test accuracy (with --validation: "validation": N and the validation accuracy), best,
// last, seconds, then whatever extra fields the driver adds (the CUDA driver: device, gpu, cuda_graph).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <ostream>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include <ctnet/core/error.hpp>
#include <ctnet/core/json.hpp>
#include <ctnet/train/progress.hpp>
#include <ctnet/train/schedule.hpp>

#include "compiled.hpp"
#include "options.hpp"

namespace examples {

// The learning rate of a global step in an epoch: OneCycleLR per batch (warm-up over the first quarter,
// momentum not cycled) or StepLR per epoch (x0.1 every config.step_size epochs).
CTNET_EXAMPLES_COLD std::function<double(long, int)> lr_schedule(const RunOptions& o, const MnistExampleConfig& config,
                                                                  long steps_per_epoch);

CTNET_EXAMPLES_COLD ctnet::ProgressBar::Mode progress_mode(const RunOptions& o);

// The "data: ..." and "training: ..." lines; `where` ends the second ("2 threads", the GPU's name).
CTNET_EXAMPLES_COLD void print_run_header(std::ostream& out, const RunOptions& o, const MnistExampleConfig& config,
                                          long train_count, long test_count, const std::string& where);

// One epoch's figures, from whichever device trained it.
struct EpochFigures {
  double train_loss = 0;  // mean over the epoch's samples
  long train_correct = 0, train_total = 0;
  double test_loss = 0;  // mean over the test samples
  long test_correct = 0, test_total = 0;
  double lr = 0;  // the learning rate of the epoch's last step
  double seconds = 0;
  long images = 0;
  double train_accuracy() const { return train_total > 0 ? double(train_correct) / double(train_total) : 0; }
  double test_accuracy() const { return test_total > 0 ? double(test_correct) / double(test_total) : 0; }
};

// The last field (the seconds) of rows 1..epochs of an epoch-level CSV log with `fields` fields per row, ""
// where the file has no complete row for an epoch; rows after `epochs` are dropped (a resumed run redoes them).
CTNET_EXAMPLES_COLD std::vector<std::string> previous_csv_seconds(const std::string& path, int epochs, int fields);

// Opens `path` for a resumed run's log: the header and `rows` written to a temporary file renamed over `path`,
// so a kill leaves the old log or the new one; `csv` stays open on it for the rows still to come.
CTNET_EXAMPLES_COLD void rewrite_csv(std::ofstream& csv, const std::string& path, const std::string& header,
                                     const std::vector<std::string>& rows);

class RunReport {
 public:
  // `resumed`: the figures of epochs 1..resumed.size(), done before a --resume.
  explicit RunReport(const RunOptions& o, const std::vector<EpochFigures>& resumed = {});

  void epoch(int epoch, const std::string& label, const EpochFigures& f, std::ostream& out);

  // The closing lines: best and last test (or validation) accuracy, and what the gap to training says about fit.
  void summary(std::ostream& out) const;

  // The final JSON line's fields; the caller may add more before printing it.
  ctnet::JsonValue json(const MnistExampleConfig& config, long parameters, double seconds) const;

  double best() const { return best_; }
  double last() const { return last_; }

 private:
  void record(int epoch, const EpochFigures& f) {
    last_ = f.test_accuracy();
    last_train_ = f.train_accuracy();
    if (last_ > best_) best_ = last_, best_epoch_ = epoch;
    accuracies_.push_back(std::round(last_ * 1e6) / 1e4);
  }
  // A CSV row up to the seconds, which come last.
  static std::string csv_row(int epoch, const EpochFigures& f);

  const RunOptions& options_;
  std::ofstream csv_;
  ctnet::JsonValue accuracies_ = ctnet::JsonValue::array();
  double best_ = 0, last_ = 0, last_train_ = 0;
  int best_epoch_ = 0;
};

}  // namespace examples

#if CTNET_EXAMPLES_COLD_BODIES
namespace examples {

CTNET_EXAMPLES_COLD RunReport::RunReport(const RunOptions& o, const std::vector<EpochFigures>& resumed) : options_(o) {
  const std::string e = evaluation_set(o);
  const std::string header = "epoch,train_loss,train_accuracy," + e + "_loss," + e + "_accuracy," + e + "_correct," +
                             e + "_total,lr,seconds\n";
  if (o.csv != "-") check_output_option("--csv", o.csv);  // never a directory, device, FIFO or link
  if (o.csv != "-" && resumed.empty()) {
    csv_.open(o.csv);
    if (!csv_) throw ctnet::OptionError("--csv: cannot write '" + o.csv + "'");
    csv_ << header;
  } else if (o.csv != "-") {
    const std::vector<std::string> seconds = previous_csv_seconds(o.csv, int(resumed.size()), 9);
    std::vector<std::string> rows;
    for (std::size_t i = 0; i < resumed.size(); ++i)
      rows.push_back(csv_row(int(i + 1), resumed[i]) + seconds[i] + '\n');
    rewrite_csv(csv_, o.csv, header, rows);
  }
  for (std::size_t i = 0; i < resumed.size(); ++i) record(int(i + 1), resumed[i]);
}

CTNET_EXAMPLES_COLD void RunReport::epoch(int epoch, const std::string& label, const EpochFigures& f,
                                          std::ostream& out) {
  record(epoch, f);
  char line[256];
  std::snprintf(line, sizeof line,
                "%s  train loss %.4f acc %s  %s loss %.4f acc %s (%ld/%ld)  lr %.5f  %.1f s (%.0f img/s)",
                label.c_str(), f.train_loss, percent(f.train_accuracy()).c_str(),
                options_.validation ? "val" : "test", f.test_loss, percent(f.test_accuracy()).c_str(), f.test_correct,
                f.test_total, f.lr, f.seconds, double(f.images) / f.seconds);
  out << line << std::endl;
  if (csv_) csv_ << csv_row(epoch, f) << f.seconds << '\n' << std::flush;
}

CTNET_EXAMPLES_COLD void RunReport::summary(std::ostream& out) const {
  const std::string e = evaluation_set(options_);
  out << "\nbest " << e << " accuracy " << percent(best_) << " (epoch " << best_epoch_ << "), last " << percent(last_)
      << "; last epoch's training accuracy " << percent(last_train_) << "\n";
  const double gap = last_train_ - last_;
  if (gap > 0.003)
    out << "fit: over-fitting: training accuracy is " << percent(gap) << " ahead of " << e
        << " accuracy (the model memorises what it sees)\n";
  else if (gap < -0.001)
    out << "fit: training accuracy is " << percent(-gap) << " below " << e
        << " accuracy: dropout and augmentation make training harder than testing, so there is "
           "room to push the training accuracy further\n";
  else
    out << "fit: training and " << e << " accuracy agree within 0.3 points: no sign of over-fitting\n";
}

CTNET_EXAMPLES_COLD ctnet::JsonValue RunReport::json(const MnistExampleConfig& config, long parameters,
                                                     double seconds) const {
  ctnet::JsonValue line = ctnet::JsonValue::object();
  line["example"] = config.name;
  line["parameters"] = parameters;
  line["epochs"] = options_.epochs;
  line["seed"] = options_.seed;
  line["threads"] = options_.threads;
  if (options_.validation) line["validation"] = options_.validation;
  line[evaluation_set(options_) + "_accuracy"] = accuracies_;
  line["best"] = std::round(best_ * 1e6) / 1e4;
  line["last"] = std::round(last_ * 1e6) / 1e4;
  line["seconds"] = std::round(seconds * 10) / 10;
  return line;
}

CTNET_EXAMPLES_COLD std::string RunReport::csv_row(int epoch, const EpochFigures& f) {
  std::ostringstream row;
  row << epoch << ',' << f.train_loss << ',' << f.train_accuracy() << ',' << f.test_loss << ',' << f.test_accuracy()
      << ',' << f.test_correct << ',' << f.test_total << ',' << f.lr << ',';
  return row.str();
}

CTNET_EXAMPLES_COLD std::function<double(long, int)> lr_schedule(const RunOptions& o, const MnistExampleConfig& config,
                                                                  long steps_per_epoch) {
  if (o.schedule == "onecycle") {
    ctnet::OneCycleLR::Options oc;
    oc.max_lr = o.lr;
    oc.total_steps = steps_per_epoch * o.epochs;
    oc.pct_start = 0.25;
    oc.cycle_momentum = false;
    const ctnet::OneCycleLR one_cycle(oc);
    return [one_cycle](long step, int) { return one_cycle.lr_at(step); };
  }
  const ctnet::StepLR step_lr(o.lr, config.step_size, 0.1);
  // Epochs count from 1 here, from 0 in PyTorch's StepLR (stepped after each epoch).
  return [step_lr](long, int epoch) { return step_lr.lr_at(epoch - 1); };
}

CTNET_EXAMPLES_COLD ctnet::ProgressBar::Mode progress_mode(const RunOptions& o) {
  using Mode = ctnet::ProgressBar::Mode;
  return o.progress == "bar"           ? Mode::bar
         : o.progress == "lines"       ? Mode::lines
         : o.progress == "off"         ? Mode::off
         : ctnet::stdout_is_terminal() ? Mode::bar
                                       : Mode::lines;
}

CTNET_EXAMPLES_COLD void print_run_header(std::ostream& out, const RunOptions& o, const MnistExampleConfig& config,
                                          long train_count, long test_count, const std::string& where) {
  out << "\ndata: " << train_count << " training and " << test_count << " " << evaluation_set(o)
      << (o.validation ? " images (the last of the training file) from " : " images from ") << o.data
      << "\ntraining: " << o.epochs << " epochs, batch " << o.batch << ", SGD momentum " << config.momentum
      << (o.weight_decay > 0 ? ", weight decay " + std::to_string(o.weight_decay) : std::string()) << ", "
      << (o.schedule == "onecycle" ? "OneCycleLR max_lr " : "StepLR lr ") << o.lr
      << (o.rotation > 0 ? ", rotation +-" + std::to_string(int(o.rotation)) + " deg" : std::string())
      << (o.translate > 0 ? ", translate " + default_text(o.translate) : std::string())
      << (o.scale > 0 ? ", scale +-" + default_text(o.scale) : std::string()) << ", seed " << o.seed << ", " << where
      << "\n\n";
}

CTNET_EXAMPLES_COLD std::vector<std::string> previous_csv_seconds(const std::string& path, int epochs, int fields) {
  std::vector<std::string> seconds(std::size_t(epochs > 0 ? epochs : 0));
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);  // the header
  while (std::getline(in, line)) {
    if (std::count(line.begin(), line.end(), ',') != fields - 1) continue;  // a row cut short by a kill
    const int epoch = std::atoi(line.c_str());
    if (epoch >= 1 && epoch <= epochs) seconds[std::size_t(epoch - 1)] = line.substr(line.rfind(',') + 1);
  }
  return seconds;
}

CTNET_EXAMPLES_COLD void rewrite_csv(std::ofstream& csv, const std::string& path, const std::string& header,
                                     const std::vector<std::string>& rows) {
  const std::string tmp = path + ".tmp";
  csv.open(tmp);
  if (!csv) throw ctnet::OptionError("--csv: cannot write '" + tmp + "'");
  csv << header;
  for (const std::string& row : rows) csv << row;
  csv << std::flush;
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (!csv || ec) throw ctnet::Error("--csv: cannot replace '" + path + "': " + ec.message());
}

}  // namespace examples
#endif  // CTNET_EXAMPLES_COLD_BODIES
