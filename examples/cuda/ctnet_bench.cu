// ctnet_bench --device cuda: GPU speed of the flagship and the reference S4-GAP network, as JSON lines.
//
// Lines, in this order (each with framework, backend and device "cuda", gpu, model, parameters):
//   time_to_accuracy  the flagship recipe (mnist_step3_gap: batch 128, OneCycleLR max_lr 0.2 over 15 epochs,
//                     rotation +-7, seed 1) from program start — CUDA start-up, reading MNIST from disk and
//                     the upload included — until the test accuracy after an epoch reaches the target:
//                     reached, epochs, seconds (from program start), setup_seconds, train_seconds, accuracy
//                     (at the stop), best, test_accuracy per epoch. It runs first, so nothing before it
//                     warms the GPU.
//   train             per model and batch (default 128 and 512): SGD lr 0.01 momentum 0.9, NLL loss, batches
//                     gathered on the device from the shuffled training set; 10 warm-up steps, then the median
//                     images/s of --reps runs of --steps steps; "step": "graph" (a captured CUDA graph
//                     replayed per step) or "eager".
//   infer             per model: eval-mode forward passes over the 10k test set in batches of 1000 (data on the
//                     device), median images/s of --reps passes.
#include <algorithm>
#include <chrono>
#include <iostream>
#include <string>
#include <vector>

#include "../common/flagship.hpp"
#include "../mnist_models.hpp"
#include "mnist_cuda.cuh"

namespace examples {
namespace {

using namespace ctnet;
using namespace cuda_run;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double round_to(double v, double unit) { return std::round(v / unit) * unit; }

JsonValue base_line(const char* bench, const std::string& model, long parameters, const std::string& gpu) {
  JsonValue j = JsonValue::object();
  j["bench"] = bench;
  j["framework"] = "ctnet";
  j["backend"] = "cuda";  // as the CPU lines' "backend"
  j["device"] = "cuda";   // as pytorch_ref.py's lines
  j["gpu"] = gpu;
  j["model"] = model;
  j["parameters"] = parameters;
  return j;
}

void emit(const JsonValue& line) { std::cout << to_json(line) << std::endl; }

template <class Net>
void time_to_accuracy(const BenchOptions& o, Clock::time_point program_start, const std::string& gpu) {
  const MnistExampleConfig c = flagship_config();
  RunOptions r = c.defaults;  // the flagship's run, as mnist_step3_gap --data --epochs --cuda-graph would make it
  r.data = o.data;
  r.epochs = o.epochs;
  r.cuda_graph = o.cuda_graph;

  MnistSplits splits = load_splits(r);  // checked: 1x28x28 images, labels 0-9
  Dataset& train = splits.train;
  Dataset& test = splits.test;
  MnistTrainer<Net> trainer(train, test, trainer_options(r, c));
  const auto lr_at = lr_schedule(r, c, trainer.batches_per_epoch());
  const double setup = seconds_since(program_start);

  const auto train_start = Clock::now();
  JsonValue accuracies = JsonValue::array();
  double accuracy = 0, best = 0;
  int epochs = 0;
  bool reached = false;
  for (int epoch = 1; epoch <= r.epochs && !reached; ++epoch) {
    double lr = 0;
    trainer.train_epoch(epoch, lr_at, 0, {}, lr);
    const TrainFigures e = trainer.evaluate();
    accuracy = e.total ? double(e.correct) / double(e.total) : 0;
    best = std::max(best, accuracy);
    accuracies.push_back(round_to(accuracy * 100, 0.01));
    epochs = epoch;
    reached = accuracy >= o.target;
  }
  const double train_seconds = seconds_since(train_start);
  JsonValue j = base_line("time_to_accuracy", "flagship", Net::parameter_count, gpu);
  j["target"] = round_to(o.target * 100, 0.01);
  j["reached"] = reached;
  j["epochs"] = epochs;
  j["max_epochs"] = r.epochs;
  j["seconds"] = round_to(seconds_since(program_start), 0.001);
  j["setup_seconds"] = round_to(setup, 0.001);
  j["train_seconds"] = round_to(train_seconds, 0.001);
  j["accuracy"] = round_to(accuracy * 100, 0.01);
  j["best"] = round_to(best * 100, 0.01);
  j["test_accuracy"] = accuracies;
  j["batch"] = r.batch;
  j["seed"] = r.seed;
  j["step"] = trainer.graph_used() ? "graph" : "eager";
  emit(j);
}

template <class Net>
void throughput(const BenchOptions& o, const std::string& model, const Dataset& train, const Dataset& test,
                const std::string& gpu) {
  const std::vector<int> batches = o.cuda_batches();
  for (std::size_t b = 0; b < batches.size(); ++b) {
    const int batch = batches[b];
    if (batch > train.count) throw OptionError("--batch: " + std::to_string(batch) + " exceeds the training set");
    TrainerOptions t;
    t.seed = 1;
    t.batch = batch;
    t.lr = 0.01;
    t.momentum = 0.9;
    t.graph = o.cuda_graph;
    MnistTrainer<Net> trainer(train, test, t);
    trainer.model().train();
    const long full = train.count / batch;
    long j = 0;
    int epoch = 0;
    const auto steps = [&](int n) {
      for (int k = 0; k < n; ++k, ++j) {
        if (j % full == 0) trainer.begin_epoch(++epoch);
        trainer.full_step(j % full, 0.01);
      }
      cuda::synchronize();
    };
    steps(10);
    std::vector<double> rates;
    for (int r = 0; r < o.reps; ++r) {
      const auto t0 = Clock::now();
      steps(o.steps);
      rates.push_back(double(o.steps) * batch / seconds_since(t0));
    }
    trainer.sync_model_step();
    JsonValue line = base_line("train", model, Net::parameter_count, gpu);
    line["batch"] = batch;
    line["step"] = trainer.graph_used() ? "graph" : "eager";
    line["img_per_s"] = std::round(median(rates));
    JsonValue all = JsonValue::array();
    for (double v : rates) all.push_back(std::round(v));
    line["all"] = all;
    emit(line);

    if (b == 0) {  // inference once per model
      trainer.infer_all();
      rates.clear();
      for (int r = 0; r < o.reps; ++r) {
        const auto t0 = Clock::now();
        trainer.infer_all();
        rates.push_back(double(test.count) / seconds_since(t0));
      }
      JsonValue inf = base_line("infer", model, Net::parameter_count, gpu);
      inf["batch"] = 1000;
      inf["img_per_s"] = std::round(median(rates));
      JsonValue all_inf = JsonValue::array();
      for (double v : rates) all_inf.push_back(std::round(v));
      inf["all"] = all_inf;
      emit(inf);
    }
  }
}

}  // namespace

int bench_on_cuda(const BenchOptions& o, Clock::time_point program_start) {  // errors: ctnet_bench's guarded_main
  if (!require_device("ctnet_bench --device cuda")) return 1;
  const std::string gpu = device_name();
  if (o.time_to_accuracy) time_to_accuracy<mnist::Step3Gap>(o, program_start, gpu);
  RunOptions r;
  r.data = o.data;
  const MnistSplits splits = load_splits(r);  // checked: 1x28x28 images, labels 0-9
  const Dataset &train = splits.train, &test = splits.test;
  const std::string models = o.cuda_models();
  if (models == "flagship" || models == "both") throughput<mnist::Step3Gap>(o, "flagship", train, test, gpu);
  if (models == "reference" || models == "both") throughput<mnist::Reference>(o, "reference", train, test, gpu);
  return 0;
}

}  // namespace examples

extern "C" const examples::CudaModule ctnet_examples_cuda_module{examples::cuda_module_layout, nullptr, nullptr,
                                                                 examples::bench_on_cuda};
