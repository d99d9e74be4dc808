// examples/common/mnist_example.hpp — the shared driver of the MNIST example programs.
//
// Requires: Net a classifier network on Input<1, 28, 28> ending in LogSoftmax over 10 classes.
// Guarantees: parses and validates the common options (--help states each default), prints the network's
// summary, trains with SGD (momentum) under OneCycleLR or StepLR, evaluates on the test set after every
// epoch, prints one line per epoch and writes the same to a CSV file, optionally saves a checkpoint, and
// ends with one JSON line (example, parameters, epochs, seed, per-epoch test accuracy, best, last,
// seconds). Errors in options or data print "error: ..." and exit with status 2 or 1.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <ctnet/ctnet.hpp>
#include <ctnet/core/json.hpp>
#include <ctnet/data/loader.hpp>
#include <ctnet/data/mnist.hpp>
#include <ctnet/train/checkpoint.hpp>
#include <ctnet/train/loss.hpp>
#include <ctnet/train/optimizer.hpp>
#include <ctnet/train/schedule.hpp>
#include <ctnet/train/trainer.hpp>

#include "cli.hpp"

#ifndef CTNET_DEFAULT_DATA_DIR
#define CTNET_DEFAULT_DATA_DIR "data/mnist"
#endif

namespace examples {

// What an example chooses; every field can be overridden on the command line.
struct MnistExampleConfig {
  std::string name;
  std::string description;
  int epochs = 15;
  int batch = 128;
  double lr = 0.05;                  // OneCycleLR's max_lr, or StepLR's initial lr
  std::string schedule = "onecycle";  // "onecycle" or "step"
  int step_size = 6;                 // StepLR: decay every step_size epochs by gamma 0.1
  double momentum = 0.9;
  double weight_decay = 0;
  float rotation = 0;                // RandomRotation(+-degrees) during training; 0 = off
  float translate = 0;               // RandomAffine translate (fraction of the image)
};

inline std::string default_data_dir() {
  if (const char* env = std::getenv("CTNET_DATA"); env && *env) return env;
  return CTNET_DEFAULT_DATA_DIR;
}

inline std::string percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", 100 * fraction);
  return buf;
}

struct RunOptions {
  std::string data = default_data_dir();
  int epochs = 0, batch = 0, threads = 0;
  double lr = 0, weight_decay = 0;
  std::uint64_t seed = 1;
  std::string save, csv, schedule, progress = "auto";
  long train_limit = 0, test_limit = 0;
  float rotation = 0, translate = 0;
};

// `extra` may add an example's own options to the command line before it is parsed.
inline RunOptions parse_options(int argc, char** argv, const MnistExampleConfig& c, bool& help,
                                const std::function<void(CommandLine&)>& extra = {}) {
  RunOptions o;
  o.epochs = c.epochs;
  o.batch = c.batch;
  o.lr = c.lr;
  o.weight_decay = c.weight_decay;
  o.schedule = c.schedule;
  o.rotation = c.rotation;
  o.translate = c.translate;
  o.csv = c.name + ".csv";
  const int hw = int(std::max(1u, std::thread::hardware_concurrency()));
  o.threads = hw;
  if (const char* env = std::getenv("OMP_NUM_THREADS"); env && *env)
    o.threads = parse_number<int>("OMP_NUM_THREADS", env, 1, 1024);
  const auto num = [](double v) {
    std::string s = std::to_string(v);
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
    return s;
  };
  CommandLine cli(c.name, c.description);
  cli.option("--data", "DIR", "directory with the four MNIST IDX files, raw or .gz (default: " + o.data +
                                  "; fetch it with scripts/fetch_mnist.sh)",
             [&](const std::string& v) { o.data = v; });
  cli.option("--epochs", "N", "training epochs, 1-1000 (default: " + std::to_string(o.epochs) + ")",
             [&](const std::string& v) { o.epochs = parse_number<int>("--epochs", v, 1, 1000); });
  cli.option("--batch", "N", "training batch size, 1-4096 (default: " + std::to_string(o.batch) + ")",
             [&](const std::string& v) { o.batch = parse_number<int>("--batch", v, 1, 4096); });
  cli.option("--lr", "X",
             "learning rate: OneCycleLR's peak or StepLR's start, (0, 10] (default: " + num(o.lr) + ")",
             [&](const std::string& v) {
               o.lr = parse_number<double>("--lr", v, 0, 10);
               if (o.lr <= 0) throw ctnet::OptionError("--lr: must be greater than 0");
             });
  cli.option("--schedule", "NAME", "onecycle (per batch) or step (x0.1 every " + std::to_string(c.step_size) +
                                       " epochs) (default: " + o.schedule + ")",
             [&](const std::string& v) {
               if (v != "onecycle" && v != "step")
                 throw ctnet::OptionError("--schedule: '" + v + "' is not one of onecycle, step");
               o.schedule = v;
             });
  cli.option("--weight-decay", "X", "SGD weight decay, [0, 1] (default: " + num(o.weight_decay) + ")",
             [&](const std::string& v) { o.weight_decay = parse_number<double>("--weight-decay", v, 0, 1); });
  cli.option("--rotation", "DEG", "random rotation of training images, [0, 180] degrees (default: " +
                                      num(o.rotation) + ")",
             [&](const std::string& v) { o.rotation = parse_number<float>("--rotation", v, 0, 180); });
  cli.option("--translate", "F", "random translation, fraction of the image, [0, 0.5] (default: " +
                                     num(o.translate) + ")",
             [&](const std::string& v) { o.translate = parse_number<float>("--translate", v, 0, 0.5f); });
  cli.option("--seed", "N", "seed of weights, shuffling, dropout and augmentation (default: 1)",
             [&](const std::string& v) {
               o.seed = parse_number<std::uint64_t>("--seed", v, 0, std::numeric_limits<std::uint64_t>::max());
             });
  cli.option("--threads", "N", "CPU threads, 1-1024 (default: OMP_NUM_THREADS or all cores, here " +
                                   std::to_string(o.threads) + ")",
             [&](const std::string& v) { o.threads = parse_number<int>("--threads", v, 1, 1024); });
  cli.option("--save", "PATH", "save the trained model as a safetensors checkpoint (default: do not save)",
             [&](const std::string& v) {
               if (v.empty()) throw ctnet::OptionError("--save: empty path");
               o.save = v;
             });
  cli.option("--csv", "PATH", "per-epoch log as CSV, '-' for none (default: " + o.csv + ")",
             [&](const std::string& v) { o.csv = v; });
  cli.option("--train-limit", "N", "use only the first N training images, for a quick run (default: all 60000)",
             [&](const std::string& v) { o.train_limit = parse_number<long>("--train-limit", v, 1, 60000); });
  cli.option("--test-limit", "N", "use only the first N test images (default: all 10000)",
             [&](const std::string& v) { o.test_limit = parse_number<long>("--test-limit", v, 1, 10000); });
  cli.option("--progress", "MODE", "bar, lines or off (default: bar on a terminal, lines otherwise)",
             [&](const std::string& v) {
               if (v != "bar" && v != "lines" && v != "off")
                 throw ctnet::OptionError("--progress: '" + v + "' is not one of bar, lines, off");
               o.progress = v;
             });
  if (extra) extra(cli);
  help = !cli.parse(argc, argv, std::cout);
  return o;
}

template <class Net>
int run_mnist_example(int argc, char** argv, const MnistExampleConfig& config) try {
  using namespace ctnet;
  bool help = false;
  const RunOptions o = parse_options(argc, argv, config, help);
  if (help) return 0;
  Cpu::set_threads(o.threads);

  std::cout << config.description << "\n\n";
  summary<Net>(std::cout);

  Dataset train = load_mnist_split(o.data, true);
  Dataset test = load_mnist_split(o.data, false);
  if (o.train_limit) train = slice(train, 0, int(o.train_limit));
  if (o.test_limit) test = slice(test, 0, int(o.test_limit));

  LoaderOptions train_options;
  train_options.batch_size = o.batch;
  train_options.seed = o.seed;
  if (o.rotation > 0 || o.translate > 0) train_options.augment = RandomAffine(o.rotation, o.translate, o.translate);
  LoaderOptions test_options;
  test_options.batch_size = 1000;
  test_options.shuffle = false;
  DataLoader train_loader(train, train_options), test_loader(test, test_options);

  std::cout << "\ndata: " << train.count << " training and " << test.count << " test images from " << o.data
            << "\ntraining: " << o.epochs << " epochs, batch " << o.batch << ", SGD momentum " << config.momentum
            << (o.weight_decay > 0 ? ", weight decay " + std::to_string(o.weight_decay) : std::string())
            << ", " << (o.schedule == "onecycle" ? "OneCycleLR max_lr " : "StepLR lr ") << o.lr
            << (o.rotation > 0 ? ", rotation +-" + std::to_string(int(o.rotation)) + " deg" : std::string())
            << ", seed " << o.seed << ", " << o.threads << " threads\n\n";

  Model<Net> model(o.seed, o.batch, test_options.batch_size);
  SGD<float> sgd(o.lr, config.momentum, 0, o.weight_decay);
  const long steps_per_epoch = train_loader.batches_per_epoch();
  StepSchedule schedule;
  if (o.schedule == "onecycle") {
    OneCycleLR::Options oc;
    oc.max_lr = o.lr;
    oc.total_steps = steps_per_epoch * o.epochs;
    oc.pct_start = 0.25;
    oc.cycle_momentum = false;
    const OneCycleLR one_cycle(oc);
    schedule.lr_at = [one_cycle](long step, int) { return one_cycle.lr_at(step); };
  } else {
    const StepLR step_lr(o.lr, config.step_size, 0.1);
    schedule.lr_at = [step_lr](long, int epoch) { return step_lr.lr_at(epoch); };
  }

  const ProgressBar::Mode mode = o.progress == "bar"     ? ProgressBar::Mode::bar
                                 : o.progress == "lines" ? ProgressBar::Mode::lines
                                 : o.progress == "off"   ? ProgressBar::Mode::off
                                 : stdout_is_terminal()  ? ProgressBar::Mode::bar
                                                         : ProgressBar::Mode::lines;
  ProgressBar progress(std::cout, mode);
  Trainer<Model<Net>, NLLLoss> trainer(model, NLLLoss{}, progress);

  std::ofstream csv;
  if (o.csv != "-") {
    csv.open(o.csv);
    if (!csv) throw OptionError("--csv: cannot write '" + o.csv + "'");
    csv << "epoch,train_loss,train_accuracy,test_loss,test_accuracy,test_correct,test_total,lr,seconds\n";
  }

  const auto start = std::chrono::steady_clock::now();
  JsonValue accuracies = JsonValue::array();
  double best = 0, last = 0, last_train = 0;
  int best_epoch = 0;
  for (int epoch = 1; epoch <= o.epochs; ++epoch) {
    const std::string label = "epoch " + std::to_string(epoch) + "/" + std::to_string(o.epochs);
    const EpochResult r = trainer.train_epoch(train_loader, sgd, schedule, epoch, label);
    const EvalResult t = evaluate(model, test_loader, NLLLoss{});
    last = t.accuracy();
    last_train = r.train.accuracy();
    if (last > best) best = last, best_epoch = epoch;
    accuracies.push_back(std::round(last * 1e6) / 1e4);
    char line[256];
    std::snprintf(line, sizeof line,
                  "%s  train loss %.4f acc %s  test loss %.4f acc %s (%ld/%ld)  lr %.5f  %.1f s (%.0f img/s)",
                  label.c_str(), r.train.loss, percent(r.train.accuracy()).c_str(), t.loss,
                  percent(t.accuracy()).c_str(), t.correct, t.total, r.lr, r.seconds, double(r.images) / r.seconds);
    std::cout << line << std::endl;
    if (csv) {
      csv << epoch << ',' << r.train.loss << ',' << r.train.accuracy() << ',' << t.loss << ',' << t.accuracy() << ','
          << t.correct << ',' << t.total << ',' << r.lr << ',' << r.seconds << '\n' << std::flush;
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::cout << "\nbest test accuracy " << percent(best) << " (epoch " << best_epoch << "), last " << percent(last)
            << "; last epoch's training accuracy " << percent(last_train) << "\n";
  const double gap = last_train - last;
  if (gap > 0.003)
    std::cout << "fit: over-fitting: training accuracy is " << percent(gap)
              << " ahead of test accuracy (the model memorises what it sees)\n";
  else if (gap < -0.001)
    std::cout << "fit: training accuracy is " << percent(-gap)
              << " below test accuracy: dropout and augmentation make training harder than testing, so there is "
                 "room to push the training accuracy further\n";
  else
    std::cout << "fit: training and test accuracy agree within 0.3 points: no sign of over-fitting\n";
  if (!o.save.empty()) {
    save_checkpoint(model, o.save, {{{"example", config.name}, {"epochs", std::to_string(o.epochs)}}, {}});
    std::cout << "saved " << o.save << "\n";
  }

  JsonValue summary_line = JsonValue::object();
  summary_line["example"] = config.name;
  summary_line["parameters"] = Net::parameter_count;
  summary_line["epochs"] = o.epochs;
  summary_line["seed"] = o.seed;
  summary_line["threads"] = o.threads;
  summary_line["test_accuracy"] = accuracies;
  summary_line["best"] = std::round(best * 1e6) / 1e4;
  summary_line["last"] = std::round(last * 1e6) / 1e4;
  summary_line["seconds"] = std::round(seconds * 10) / 10;
  std::cout << to_json(summary_line) << std::endl;
  return 0;
} catch (const ctnet::OptionError& e) {
  std::cerr << "error: " << e.what() << "\n(see " << config.name << " --help)\n";
  return 2;
} catch (const ctnet::Error& e) {
  std::cerr << "error: " << e.what() << "\n";
  return 1;
}

}  // namespace examples
