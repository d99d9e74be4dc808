// ctnet_bench: training and inference speed of the reference S4-GAP network (or the flagship) on the
// CPU, printed as JSON lines comparable with ../shared/bench/pytorch_ref.py speed.
//
//   ctnet_bench --model reference --batch 128 --threads 2 --data data/mnist
//
// train: random batches of `--batch` (as pytorch_ref.py: 10 warm-up steps, then the median images/s of
// `--reps` runs of `--steps` steps), SGD lr 0.01 momentum 0.9, NLL loss; images are kept as bytes and
// normalised per batch. infer: batches of 1000 over the 10k test set, median of --reps passes.
// latency_b1: one image at a time, 50 warm-up calls, then the median/p10/p90 of 1000 calls.
// fma_ceiling (printed first, 1 thread and --threads): the machine's own FMA ceiling in GFLOP/s, measured in
// the same run (examples/common/fma_ceiling.hpp); every other line gives its gflops and ceiling_fraction.
// --per-layer adds one line per layer with its forward and backward time at the training batch.
// --compete N runs N CPU-bound processes beside the benchmarks (not beside the ceiling): a busy machine,
// measured the same way every time. Under mpirun with more than one rank it refuses to start (one error line).
//
// --device cuda (a CUDA build; examples/cuda/ctnet_bench.cu) prints GPU lines instead: time_to_accuracy
// (the flagship recipe until --target test accuracy, timed from program start including data upload),
// then train (batch 128 and 512, graph-captured steps) and infer (batch 1000) for both networks.
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <ctnet/core/json.hpp>
#include <ctnet/ctnet.hpp>
#include <ctnet/data/mnist.hpp>
#include <ctnet/data/transforms.hpp>
#include <ctnet/inspect/profile.hpp>
#include <ctnet/train/loss.hpp>
#include <ctnet/train/optimizer.hpp>

#include "common/cli.hpp"
#include "common/competing_load.hpp"
#include "common/cuda_driver.hpp"
#include "common/fma_ceiling.hpp"
#include "common/mnist_example.hpp"
#include "mnist_models.hpp"

namespace {

using Clock = std::chrono::steady_clock;

using examples::BenchOptions;

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) / 1024.0;
}

// A field of /proc/self/status in MB (VmHWM, RssAnon, RssFile, ...); -1 where the kernel does not give it.
double proc_status_mb(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string key;
  double kb = 0;
  while (status >> key) {
    if (key == field + ":" && status >> kb) return kb / 1024.0;
    status.ignore(1 << 16, '\n');
  }
  return -1;
}

double mb(double bytes) { return std::round(bytes / (1024.0 * 1024.0) * 10) / 10; }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void emit(ctnet::JsonValue line) {
  line["peak_rss_mb"] = std::round(peak_rss_mb() * 10) / 10;
  std::cout << ctnet::to_json(line) << std::endl;
}

template <class Net>
int bench(const BenchOptions& o) {
  using namespace ctnet;
  Cpu::set_threads(o.threads);
  const Dataset train = load_mnist_split(o.data, true), test = load_mnist_split(o.data, false);
  check_fits<typename Net::input_shape_t>(train, 10);  // the loops below read 784 bytes per image
  check_fits<typename Net::input_shape_t>(test, 10);
  if (test.count < 1000)  // infer runs batches of 1000, latency_b1 the first 1000 images
    throw DataError("'" + test.images_file + "' holds " + std::to_string(test.count) +
                    " test images; ctnet_bench needs at least 1000");
  if (o.batch > train.count)
    throw DataError("--batch " + std::to_string(o.batch) + ": '" + train.images_file + "' holds only " +
                    std::to_string(train.count) + " training images");
  Model<Net> model(1, o.batch, 1000);
  SGD<float> sgd(0.01, 0.9);
  // The data stay bytes; each byte value's normalised float is computed once, as the loader computes it.
  std::array<float, 256> normalized{};
  {
    const Normalize normalize;
    for (int b = 0; b < 256; ++b) normalized[std::size_t(b)] = (float(b) * (1.0f / 255.0f) - normalize.mean) * (1.0f / normalize.std);
  }
  std::vector<float> x(std::size_t(std::max(o.batch, 1000)) * 784), grad(std::size_t(o.batch) * 10);
  std::vector<int> labels(std::size_t(o.batch));
  Generator pick(0, RngStream::shuffle);
  const auto train_steps = [&](int steps) {
    model.train();
    for (int k = 0; k < steps; ++k) {
      for (int s = 0; s < o.batch; ++s) {
        const int i = int(pick.below(std::uint32_t(train.count)));
        const std::uint8_t* img = train.image(i);
        for (int p = 0; p < 784; ++p) x[std::size_t(s * 784 + p)] = normalized[img[p]];
        labels[std::size_t(s)] = train.labels[std::size_t(i)];
      }
      const float* out = model.forward(x.data(), o.batch);
      const double loss = NLLLoss{}.forward(out, labels.data(), o.batch, 10);
      NLLLoss{}.backward(out, labels.data(), o.batch, 10, grad.data());
      model.zero_grad();
      model.backward(grad.data());
      // As Trainer does: the loss and the gradient arena are checked for NaN/Inf before every update.
      check_training_step(model, loss, grad.data(), {long(k) + 1, 1, long(k) + 1, 0.01});
      sgd.step(model.parameters(), model.gradients());
    }
  };
  const auto base = [&](const char* name) {
    JsonValue j = JsonValue::object();
    j["bench"] = name;
    j["framework"] = "ctnet";
    j["backend"] = "cpu";
    j["model"] = o.model;
    j["threads"] = o.threads;
    j["parameters"] = Net::parameter_count;
    if (o.compete > 0) j["competing_processes"] = o.compete;
    return j;
  };

  // The machine's own FMA ceiling, measured in this run before and after the benchmarks (the larger of the
  // two: a shared machine's load drifts), for 1 thread and for --threads. Every figure also reports the
  // fraction of the --threads ceiling it reaches, so the lines are printed once both are known. FLOPs per
  // image: 2 per multiply-add; training counts forward, input gradient and weight gradient (3x the forward,
  // as the reference network's 7.3 MFLOP).
  double ceiling_1 = examples::fma_ceiling_gflops(1);
  double ceiling_n = o.threads == 1 ? ceiling_1 : examples::fma_ceiling_gflops(o.threads);
  const double forward_flop = 2.0 * double(Net::macs);
  std::vector<std::pair<JsonValue, double>> lines;  // each line with its GFLOP/s (0: none)
  const auto add = [&](JsonValue line, double images_per_s = 0, double flop_per_image = 0) {
    lines.emplace_back(std::move(line), images_per_s * flop_per_image / 1e9);
  };
  // The competing processes run from here until the lines are printed (the ceiling is the idle machine's).
  std::optional<examples::CompetingLoad> load;
  if (o.compete > 0) load.emplace(o.compete);
  const auto print_all = [&] {
    load.reset();
    ceiling_1 = std::max(ceiling_1, examples::fma_ceiling_gflops(1));
    ceiling_n = o.threads == 1 ? ceiling_1 : std::max(ceiling_n, examples::fma_ceiling_gflops(o.threads));
    for (int threads : {1, o.threads}) {
      JsonValue c = JsonValue::object();
      c["bench"] = "fma_ceiling";
      c["threads"] = threads;
      c["isa"] = examples::fma_ceiling_isa();
      c["gflops"] = std::round((threads == 1 ? ceiling_1 : ceiling_n) * 10) / 10;
      emit(c);
      if (o.threads == 1) break;
    }
    for (auto& [line, gflops] : lines) {
      if (gflops > 0) {
        line["gflops"] = std::round(gflops * 10) / 10;
        line["ceiling_fraction"] = std::round(gflops / ceiling_n * 1000) / 1000;
      }
      emit(line);
    }
    // Where the resident memory goes: what this program holds by design (the byte datasets, the model's
    // parameters, gradients and activation workspace, SGD's momentum, the batch buffers), and what the
    // kernel counts at the end (anonymous: heap and thread stacks; file: the binary and its libraries).
    JsonValue m = base("memory");
    m["dataset_mb"] = mb(double(train.images.size() + train.labels.size() + test.images.size() + test.labels.size()));
    m["model_mb"] = mb(4.0 * double(3 * Net::parameter_count + model.workspace_floats()));
    m["batch_buffers_mb"] = mb(4.0 * double(x.size() + grad.size()) + 4.0 * double(labels.size()));
    m["rss_anon_mb"] = std::round(proc_status_mb("RssAnon") * 10) / 10;
    m["rss_file_mb"] = std::round(proc_status_mb("RssFile") * 10) / 10;
    emit(m);
    return 0;
  };

  std::vector<double> rates;
  if (o.runs("train")) train_steps(10);
  for (int r = 0; r < o.reps && o.runs("train"); ++r) {
    const auto t = Clock::now();
    train_steps(o.steps);
    rates.push_back(o.steps * o.batch / std::chrono::duration<double>(Clock::now() - t).count());
  }
  JsonValue j;
  if (o.runs("train")) {
    j = base("train");
    j["batch"] = o.batch;
    j["img_per_s"] = std::round(median(rates));
    JsonValue all = JsonValue::array();
    for (double v : rates) all.push_back(std::round(v));
    j["all"] = all;
    // The thread counts the model's training calls run with at the end (adaptive_threads.hpp).
    const auto& adaptive = model.execution_context().adaptive_threads();
    j["forward_threads"] = adaptive.threads_for({ExecutionCall::Kind::forward, o.batch}, o.threads);
    j["backward_threads"] = adaptive.threads_for({ExecutionCall::Kind::backward, o.batch}, o.threads);
    add(j, median(rates), 3 * forward_flop);
  }

  if (o.per_layer) {
    for (const LayerTiming& t : profile_layers(model, x.data(), o.batch)) {
      JsonValue l = base("layer");
      l["batch"] = o.batch;
      l["position"] = t.position;
      l["layer"] = t.layer;
      l["forward_us"] = std::round(t.forward_us);
      l["backward_us"] = std::round(t.backward_us);
      add(l);
    }
  }

  const auto load_test = [&](int first, int n) {
    for (int s = 0; s < n; ++s) {
      const std::uint8_t* img = test.image(first + s);
      for (int p = 0; p < 784; ++p) x[std::size_t(s * 784 + p)] = normalized[img[p]];
    }
  };
  if (!o.runs("infer") && !o.runs("latency_b1")) return print_all();
  rates.clear();
  load_test(0, 1000);
  model.predict(x.data(), 1000);
  for (int r = 0; r < o.reps && o.runs("infer"); ++r) {
    const auto t = Clock::now();
    for (int first = 0; first + 1000 <= test.count; first += 1000) {
      load_test(first, 1000);
      model.predict(x.data(), 1000);
    }
    rates.push_back(test.count / std::chrono::duration<double>(Clock::now() - t).count());
  }
  if (o.runs("infer")) {
    j = base("infer");
    j["batch"] = 1000;
    j["img_per_s"] = std::round(median(rates));
    add(j, median(rates), forward_flop);
  }
  if (!o.runs("latency_b1")) return print_all();

  std::vector<double> lat;
  load_test(0, 1);
  for (int k = 0; k < 50; ++k) model.predict(x.data(), 1);
  for (int i = 0; i < 1000; ++i) {
    const auto t = Clock::now();
    load_test(i, 1);
    model.predict(x.data(), 1);
    lat.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t).count());
  }
  std::sort(lat.begin(), lat.end());
  j = base("latency_b1");
  j["batch"] = 1;
  j["us_median"] = std::round(lat[500] * 10) / 10;
  j["us_p10"] = std::round(lat[100] * 10) / 10;
  j["us_p90"] = std::round(lat[900] * 10) / 10;
  add(j, 1e6 / lat[500], forward_flop);
  return print_all();
}

// One process is measured: N copies started by mpirun would share the cores and each report a slowed figure.
void refuse_several_ranks() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
    if (const char* size = std::getenv(name); size && std::string(size) != "1")
      throw ctnet::OptionError(std::string("started by mpirun with ") + size +
                               " ranks: ctnet_bench measures one process (for data-parallel training speed, run "
                               "scripts/dist_bench.sh)");
}

int run(int argc, char** argv) {
  const auto program_start = std::chrono::steady_clock::now();
  refuse_several_ranks();
  BenchOptions o;
  using examples::default_text;
  examples::CommandLine cli("ctnet_bench", "Speed of ctnet on the reference S4-GAP network or the flagship, as JSON "
                                           "lines: on the CPU, or with --device cuda on a GPU (see --help).");
  cli.choice("--model", "NAME", o.model, {"reference", "flagship", "both"},
             "reference (S4-GAP, 9,752 parameters) or flagship; with --device cuda also both (default: " + o.model +
                 "; cuda: both)");
  cli.number("--batch", "N", o.batch, 1, 4096,
             "training batch, 1-4096 (default: " + std::to_string(o.batch) + "; cuda: 128 and 512)");
  cli.number("--threads", "N", o.threads, 1, 256, "threads, 1-256 (default: " + std::to_string(o.threads) + ")");
  cli.number("--steps", "N", o.steps, 1, 100000,
             "training steps per timed run (default: " + std::to_string(o.steps) + ")");
  cli.number("--reps", "N", o.reps, 1, 1000,
             "timed runs; the median is reported (default: " + std::to_string(o.reps) + ")");
  cli.option("--data", "DIR", "MNIST directory (default: " + o.data + ")", [&](const std::string& v) { o.data = v; });
  cli.choice("--only", "NAME", o.only, {"train", "infer", "latency_b1"},
             "cpu: run only this benchmark: train, infer or latency_b1 (default: all three)");
  cli.number("--compete", "N", o.compete, 0, 64,
             "cpu: run N CPU-bound processes beside the benchmarks (a busy machine, the same way every time); the "
             "FMA ceiling is measured without them (default: " + std::to_string(o.compete) + ")");
  cli.flag("--per-layer", "also time every layer's forward and backward at the training batch (cpu only)",
           [&] { o.per_layer = true; });
  cli.choice("--device", "NAME", o.device, {"cpu", "cuda"},
             "cpu, or cuda: GPU lines time_to_accuracy (the flagship recipe to --target from program start), then "
             "train and infer per model (needs a CUDA build) (default: " +
                 o.device + ")");
  cli.on_off("--cuda-graph", o.cuda_graph,
             "cuda: train steps as a replayed CUDA graph (on) or eager (off) (default: " +
                 std::string(o.cuda_graph ? "on" : "off") + ")");
  cli.on_off("--time-to-accuracy", o.time_to_accuracy,
             "cuda: run the time_to_accuracy line, on or off (default: " +
                 std::string(o.time_to_accuracy ? "on" : "off") + ")");
  cli.option(
      "--target", "PCT",
      "cuda: the test accuracy time_to_accuracy waits for, (0, 100] (default: " + default_text(o.target * 100) + ")",
      [&](const std::string& v) {
        o.target = examples::parse_number<double>("--target", v, 0, 100) / 100;
        if (o.target <= 0) throw ctnet::OptionError("--target: must be greater than 0");
      });
  cli.number("--epochs", "N", o.epochs, 1, 1000,
             "cuda: time_to_accuracy's epoch budget, the span of its OneCycleLR, 1-1000 (default: " +
                 std::to_string(o.epochs) + ")");
  if (!cli.parse(argc, argv, std::cout)) return 0;
  o.given = cli.given_names();
  // An option that the chosen run does not use is refused, never silently ignored.
  if (o.device == "cuda") {
    examples::refuse_options(cli, {"--per-layer", "--only", "--threads", "--compete"}, "with --device cuda");
    if (!o.time_to_accuracy) examples::refuse_options(cli, {"--target", "--epochs"}, "with --time-to-accuracy off");
    return examples::bench_on_cuda(o, program_start);
  }
  if (o.model == "both") throw ctnet::OptionError("--model: both is for --device cuda; choose reference or flagship");
  examples::refuse_options(cli, {"--cuda-graph", "--time-to-accuracy", "--target", "--epochs"},
                           "with --device cpu (it is a --device cuda option)");
  if (!o.only.empty() && o.only != "train") {
    examples::refuse_options(cli, {"--steps"}, "with --only " + o.only + " (it sets the training steps)");
    if (!o.per_layer)
      examples::refuse_options(cli, {"--batch"}, "with --only " + o.only + " (it is the training batch)");
  }
  if (o.only == "latency_b1") examples::refuse_options(cli, {"--reps"}, "with --only latency_b1 (1000 timed calls)");
  return o.model == "reference" ? bench<mnist::Reference>(o) : bench<mnist::Step3Gap>(o);
}

}  // namespace

int main(int argc, char** argv) {
  return examples::guarded_main("ctnet_bench", [&] { return run(argc, argv); });
}
