// examples/common/options.hpp — the options of the MNIST example programs, shared by the CPU driver
// (mnist_example.hpp) and the CUDA driver (examples/cuda), so it includes neither Eigen nor CUDA.
//
// Requires: C++20. Guarantees: parse_options validates every option (OptionError naming it) and its --help
// states each default; an example's MnistExampleConfig supplies the defaults. The output paths (--save,
// --csv) are checked here, before any data is read or any step trained (ctnet/core/output_file.hpp).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include <ctnet/core/error.hpp>
#include <ctnet/core/output_file.hpp>

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
  std::string save, resume, csv, schedule, progress = "auto";
  long train_limit = 0, test_limit = 0;
  float rotation = 0, translate = 0;
  std::string device = "cpu";  // "cpu" or "cuda" (add_device_options)
  bool cuda_graph = true;      // cuda: replay the training step as a captured CUDA graph
  std::vector<std::string> given;  // the options on the command line, so a driver can refuse what it ignores
  bool was_given(const std::string& name) const { return std::find(given.begin(), given.end(), name) != given.end(); }
};

// Throws OptionError naming `option` unless `path` can be written (see ctnet/core/output_file.hpp).
inline void check_output_option(const std::string& option, const std::string& path) {
  if (const std::string problem = ctnet::output_file_problem(path); !problem.empty())
    throw ctnet::OptionError(option + ": " + problem);
}

// The run an example's recipe describes, before the command line changes it.
inline RunOptions recipe_defaults(const MnistExampleConfig& c) {
  RunOptions o;
  o.epochs = c.epochs;
  o.batch = c.batch;
  o.lr = c.lr;
  o.weight_decay = c.weight_decay;
  o.schedule = c.schedule;
  o.rotation = c.rotation;
  o.translate = c.translate;
  o.csv = c.name + ".csv";
  return o;
}

// `extra` may add an example's own options to the command line before it is parsed.
inline RunOptions parse_options(int argc, char** argv, const MnistExampleConfig& c, bool& help,
                                const std::function<void(CommandLine&)>& extra = {}) {
  RunOptions o = recipe_defaults(c);
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
  cli.option("--save", "PATH",
             "keep the training state at PATH, a safetensors checkpoint rewritten after every epoch (mnist_predict "
             "reads it; --device cuda saves the final model only) (default: do not save)",
             [&](const std::string& v) {
               if (v.empty()) throw ctnet::OptionError("--save: empty path");
               o.save = v;
             });
  cli.option("--resume", "PATH",
             "continue the interrupted run whose state --save kept at PATH, with the same options; it ends with "
             "the bits of an uninterrupted run and keeps saving to --save, else to PATH (default: start afresh)",
             [&](const std::string& v) {
               if (v.empty()) throw ctnet::OptionError("--resume: empty path");
               o.resume = v;
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
  o.given = cli.given_names();
  if (help) return o;
  if (!o.save.empty()) check_output_option("--save", o.save);
  if (o.csv != "-") check_output_option("--csv", o.csv);
  if (!o.save.empty() && o.save == o.csv) throw ctnet::OptionError("--save and --csv both name '" + o.save + "'");
  return o;
}

// Only the CPU driver keeps a training state: a --resume on the GPU is refused rather than ignored.
inline void check_resume_device(const RunOptions& o) {
  if (!o.resume.empty() && o.device != "cpu")
    throw ctnet::OptionError("--resume: --device " + o.device + " cannot resume a run (it saves only the final " +
                             "model); resume with --device cpu");
}

// The --device and --cuda-graph options, for the examples that can train on a GPU (run_mnist_example adds
// them through parse_options' `extra`; RunOptions::device and cuda_graph receive the values).
inline void add_device_options(CommandLine& cli, std::string& device, bool& cuda_graph) {
  cli.option("--device", "NAME",
             "cpu, or cuda: train and evaluate on an NVIDIA GPU, data resident there and --rotation/--translate "
             "applied there with the CPU's draws (needs a CUDA build) (default: cpu)",
             [&](const std::string& v) {
               if (v != "cpu" && v != "cuda") throw ctnet::OptionError("--device: '" + v + "' is not one of cpu, cuda");
               device = v;
             });
  cli.option("--cuda-graph", "MODE",
             "cuda: replay the training step as a CUDA graph (on), or launch each kernel (off: the CPU's "
             "dropout masks) (default: on)",
             [&](const std::string& v) {
               if (v != "on" && v != "off") throw ctnet::OptionError("--cuda-graph: '" + v + "' is not one of on, off");
               cuda_graph = v == "on";
             });
}

}  // namespace examples
