// examples/common/options.hpp — the options of the MNIST example programs, shared by the CPU driver
// (mnist_example.hpp) and the CUDA driver (examples/cuda), so it includes neither Eigen nor CUDA.
//
// Each option is declared once: its value and generic default are a field of RunOptions, its name, help and
// check one line of add_run_options (or add_device_options). An example's recipe is a RunOptions value
// (MnistExampleConfig::defaults) that the command line changes, and the drivers read that one value.
// An option that every program ending in a model takes (the training examples and mnist_predict) is a
// field of CommonOptions and a line of add_common_options, and nothing else.
//
// Requires: C++20. Guarantees: parse_options validates every option (OptionError naming it) and its --help
// states each default. The output paths (--save, --csv, --export-onnx) are checked here, before any data is read or any
// step trained (ctnet/core/output_file.hpp).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <utility>
#include <limits>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <ctnet/core/error.hpp>
#include <ctnet/core/output_file.hpp>

#include "cli.hpp"
#include "compiled.hpp"

#ifndef CTNET_DEFAULT_DATA_DIR
#define CTNET_DEFAULT_DATA_DIR "data/mnist"
#endif

namespace examples {

inline std::string default_data_dir() {
  if (const char* env = std::getenv("CTNET_DATA"); env && *env) return env;
  return CTNET_DEFAULT_DATA_DIR;
}

CTNET_EXAMPLES_COLD std::string percent(double fraction);

// A default as --help shows it: 0.05, 7, 0.0001 (at most six decimals, no trailing zeros).
CTNET_EXAMPLES_COLD std::string default_text(double v);

// Throws OptionError naming `option` unless `path` can be written (see ctnet/core/output_file.hpp).
CTNET_EXAMPLES_COLD void check_output_option(const std::string& option, const std::string& path);

// The options of every example program that ends with a model: the training examples (RunOptions::common)
// and mnist_predict (PredictOptions::common). Each program's table calls add_common_options last, so an
// option for all of them is a field here and its line there (with any check, CommandLine::check).
struct CommonOptions {
  std::string export_onnx;  // empty: no ONNX export (common/onnx_export.hpp writes it)
};

inline void add_common_options(CommandLine& cli, CommonOptions& o) {
  cli.path("--export-onnx", o.export_onnx,
           "write the final model as an ONNX model (opset 17, batch dimension dynamic) at PATH (default: none)");
  cli.check([&o] {
    if (o.export_onnx.empty()) return;
#if !defined(CTNET_HAVE_ONNX)
    throw ctnet::OptionError("--export-onnx: this build has no ONNX export (ctnet::onnx is built when CMake finds "
                             "libonnx-dev and libprotobuf-dev)");
#endif
    check_output_option("--export-onnx", o.export_onnx);
  });
}

// Every option of the MNIST training examples, where its value lives; the defaults here are the generic
// recipe, an example's own is a value of this struct (MnistExampleConfig::defaults).
struct RunOptions {
  std::string data = default_data_dir();
  int epochs = 15;
  int batch = 128;
  double lr = 0.05;                   // OneCycleLR's max_lr, or StepLR's initial lr
  std::string schedule = "onecycle";  // "onecycle" or "step"
  double weight_decay = 0;
  float rotation = 0;   // RandomRotation(+-degrees) during training; 0 = off
  float translate = 0;  // RandomAffine translate (fraction of the image)
  float scale = 0;      // RandomAffine scale, uniform in [1 - scale, 1 + scale]; 0 = off
  std::uint64_t seed = 1;
  int threads = 0;  // 0: OMP_NUM_THREADS or all cores (parse_options resolves it)
  std::string save, resume;
  std::string csv;                       // "-": none; empty: <example>.csv (parse_options resolves it)
  long train_limit = 0, test_limit = 0;  // 0: all
  long validation = 0;                   // mnist_example.hpp's --validation: 0 evaluates on the test set
  std::string progress = "auto";         // "auto": bar on a terminal, lines otherwise
  std::string batch_norm = "replica";    // mnist_example.hpp's --batch-norm (ctnet::BufferSync under mpirun)
  std::string device = "cpu";            // "cpu" or "cuda" (an example with a GPU path: add_device_options)
  bool cuda_graph = true;                // cuda: replay the training step as a captured CUDA graph
  CommonOptions common;
  std::vector<std::string> given;  // the options on the command line, so a driver can refuse what it ignores
  bool was_given(const std::string& name) const { return std::find(given.begin(), given.end(), name) != given.end(); }
};

// The images a run evaluates on: the test set, or with --validation the training images it holds out.
inline std::string evaluation_set(const RunOptions& o) { return o.validation ? "validation" : "test"; }

// What an example chooses: its recipe, and the two settings of it that no option changes.
struct MnistExampleConfig {
  std::string name;
  std::string description;
  RunOptions defaults;    // what the command line starts from
  double momentum = 0.9;  // SGD momentum
  int step_size = 6;      // StepLR: decay every step_size epochs by gamma 0.1
};

// An example's GPU path, as its options offer it: none; eager steps (--device); or graph-captured steps
// that can also run eagerly (--device and --cuda-graph).
enum class GpuPath { none, eager, graph };

CTNET_EXAMPLES_COLD int default_threads();

// The options every training example takes, bound to `o`, whose values are the defaults --help states.
CTNET_EXAMPLES_COLD void add_run_options(CommandLine& cli, RunOptions& o, const MnistExampleConfig& c);

// --device for an example with a GPU path, and --cuda-graph where that path captures graphs.
CTNET_EXAMPLES_COLD void add_device_options(CommandLine& cli, RunOptions& o, GpuPath gpu);

// An example's run: its recipe changed by the command line; nullopt after --help (the usage is printed).
// `extra` adds an example's own options, listed after the common ones and before --device.
CTNET_EXAMPLES_COLD std::optional<RunOptions> parse_options(int argc, char** argv, const MnistExampleConfig& c,
                                                            GpuPath gpu,
                                                            const std::function<void(CommandLine&)>& extra = {});

// Only the CPU driver exports ONNX: on the GPU the option is refused rather than ignored.
CTNET_EXAMPLES_COLD void check_export_device(const RunOptions& o);

// Only the CPU driver keeps a training state: a --resume on the GPU is refused rather than ignored.
CTNET_EXAMPLES_COLD void check_resume_device(const RunOptions& o);

}  // namespace examples

#if CTNET_EXAMPLES_COLD_BODIES
namespace examples {

CTNET_EXAMPLES_COLD std::string percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", 100 * fraction);
  return buf;
}

CTNET_EXAMPLES_COLD std::string default_text(double v) {
  std::string s = std::to_string(v);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

CTNET_EXAMPLES_COLD void check_output_option(const std::string& option, const std::string& path) {
  if (const std::string problem = ctnet::output_file_problem(path); !problem.empty())
    throw ctnet::OptionError(option + ": " + problem);
}

CTNET_EXAMPLES_COLD int default_threads() {
  if (const char* env = std::getenv("OMP_NUM_THREADS"); env && *env)
    return parse_number<int>("OMP_NUM_THREADS", env, 1, 1024);
  return int(std::max(1u, std::thread::hardware_concurrency()));
}

CTNET_EXAMPLES_COLD void add_run_options(CommandLine& cli, RunOptions& o, const MnistExampleConfig& c) {
  cli.option("--data", "DIR",
             "directory with the four MNIST IDX files, raw or .gz (default: " + o.data +
                 "; fetch it with scripts/fetch_mnist.sh)",
             [&o](const std::string& v) { o.data = v; });
  cli.number("--epochs", "N", o.epochs, 1, 1000, "training epochs, 1-1000 (default: " + std::to_string(o.epochs) + ")");
  cli.number("--batch", "N", o.batch, 1, 4096,
             "training batch size, 1-4096 (default: " + std::to_string(o.batch) + ")");
  cli.option("--lr", "X",
             "learning rate: OneCycleLR's peak or StepLR's start, (0, 10] (default: " + default_text(o.lr) + ")",
             [&o](const std::string& v) {
               o.lr = parse_number<double>("--lr", v, 0, 10);
               if (o.lr <= 0) throw ctnet::OptionError("--lr: must be greater than 0");
             });
  cli.choice("--schedule", "NAME", o.schedule, {"onecycle", "step"},
             "onecycle (per batch) or step (x0.1 every " + std::to_string(c.step_size) +
                 " epochs) (default: " + o.schedule + ")");
  cli.number("--weight-decay", "X", o.weight_decay, 0.0, 1.0,
             "SGD weight decay, [0, 1] (default: " + default_text(o.weight_decay) + ")");
  cli.number("--rotation", "DEG", o.rotation, 0.0f, 180.0f,
             "random rotation of training images, [0, 180] degrees (default: " + default_text(o.rotation) + ")");
  cli.number("--translate", "F", o.translate, 0.0f, 0.5f,
             "random translation, fraction of the image, [0, 0.5] (default: " + default_text(o.translate) + ")");
  cli.number("--scale", "F", o.scale, 0.0f, 0.5f,
             "random scaling by a factor in [1-F, 1+F], F in [0, 0.5] (default: " + default_text(o.scale) + ")");
  cli.number("--seed", "N", o.seed, std::uint64_t(0), std::numeric_limits<std::uint64_t>::max(),
             "seed of weights, shuffling, dropout and augmentation (default: " + std::to_string(o.seed) + ")");
  cli.number("--threads", "N", o.threads, 1, 1024,
             "CPU threads, 1-1024 (default: OMP_NUM_THREADS or all cores, here " + std::to_string(o.threads) + ")");
  cli.path("--save", o.save,
           "keep the training state at PATH, a safetensors checkpoint rewritten after every epoch (mnist_predict "
           "reads it; --device cuda saves the final model only) (default: do not save)");
  cli.path("--resume", o.resume,
           "continue the interrupted run whose state --save kept at PATH, with the same options; it ends with "
           "the bits of an uninterrupted run and keeps saving to --save, else to PATH (default: start afresh)");
  cli.option("--csv", "PATH", "per-epoch log as CSV, '-' for none (default: " + o.csv + ")",
             [&o](const std::string& v) { o.csv = v; });
  cli.number("--train-limit", "N", o.train_limit, 1L, 60000L,
             "use only the first N training images, for a quick run (default: all 60000)");
  cli.number("--test-limit", "N", o.test_limit, 1L, 10000L, "use only the first N test images (default: all 10000)");
  cli.choice("--progress", "MODE", o.progress, {"bar", "lines", "off"},
             "bar, lines or off (default: bar on a terminal, lines otherwise)");
  cli.check([&o] {
    if (!o.save.empty()) check_output_option("--save", o.save);
    if (o.csv != "-") check_output_option("--csv", o.csv);
    if (!o.save.empty() && o.save == o.csv) throw ctnet::OptionError("--save and --csv both name '" + o.save + "'");
    for (const auto& [name, other] : {std::pair{"--save", &o.save}, std::pair{"--csv", &o.csv}})
      if (!o.common.export_onnx.empty() && o.common.export_onnx == *other)
        throw ctnet::OptionError(std::string("--export-onnx and ") + name + " both name '" + *other + "'");
  });
}

CTNET_EXAMPLES_COLD void add_device_options(CommandLine& cli, RunOptions& o, GpuPath gpu) {
  if (gpu == GpuPath::none) return;
  const std::string what = gpu == GpuPath::graph
                               ? "train and evaluate on an NVIDIA GPU, data resident there and "
                                 "--rotation/--translate/--scale applied there with the CPU's draws"
                               : "train on an NVIDIA GPU";
  cli.choice("--device", "NAME", o.device, {"cpu", "cuda"},
             "cpu, or cuda: " + what + " (needs a CUDA build) (default: " + o.device + ")");
  if (gpu == GpuPath::graph)
    cli.on_off("--cuda-graph", o.cuda_graph,
               "cuda: replay the training step as a CUDA graph (on), or launch each kernel (off: the CPU's "
               "dropout masks) (default: " +
                   std::string(o.cuda_graph ? "on" : "off") + ")");
}

CTNET_EXAMPLES_COLD std::optional<RunOptions> parse_options(int argc, char** argv, const MnistExampleConfig& c,
                                                            GpuPath gpu,
                                                            const std::function<void(CommandLine&)>& extra) {
  RunOptions o = c.defaults;
  if (o.threads == 0) o.threads = default_threads();
  if (o.csv.empty()) o.csv = c.name + ".csv";
  CommandLine cli(c.name, c.description);
  add_run_options(cli, o, c);
  if (extra) extra(cli);
  add_device_options(cli, o, gpu);
  add_common_options(cli, o.common);
  if (!cli.parse(argc, argv, std::cout)) return std::nullopt;
  o.given = cli.given_names();
  return o;
}

CTNET_EXAMPLES_COLD void check_export_device(const RunOptions& o) {
  if (!o.common.export_onnx.empty() && o.device != "cpu")
    throw ctnet::OptionError("--export-onnx: applies only with --device cpu (export the model that --save kept: "
                             "ctnet_export_onnx --checkpoint PATH OUT)");
}

CTNET_EXAMPLES_COLD void check_resume_device(const RunOptions& o) {
  if (!o.resume.empty() && o.device != "cpu")
    throw ctnet::OptionError("--resume: --device " + o.device + " cannot resume a run (it saves only the final " +
                             "model); resume with --device cpu");
}

}  // namespace examples
#endif  // CTNET_EXAMPLES_COLD_BODIES
