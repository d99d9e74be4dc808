// examples/common/mnist_example.hpp — the shared driver of the MNIST example programs.
//
// Requires: Net a classifier network on Input<1, 28, 28> ending in LogSoftmax over 10 classes.
// Guarantees: parses and validates the common options (--help states each default), prints the network's
// summary, trains with SGD (momentum) under OneCycleLR or StepLR, evaluates on the test set after every
// epoch, prints one line per epoch and writes the same to a CSV file, optionally saves a checkpoint, and
// ends with one JSON line (example, parameters, epochs, seed, per-epoch test accuracy, best, last,
// seconds). Errors in options or data print "error: ..." and exit with status 2 or 1. Given a CudaRun
// (common/cuda_driver.hpp), it also offers --device cuda and --cuda-graph and hands a cuda run to it.
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
#include "cuda_driver.hpp"
#include "options.hpp"
#include "report.hpp"

namespace examples {

// `cuda`, when given, trains the same network on a GPU for --device cuda (see common/cuda_driver.hpp).
template <class Net>
int run_mnist_example(int argc, char** argv, const MnistExampleConfig& config, CudaRun cuda = nullptr) try {
  using namespace ctnet;
  bool help = false;
  std::string device = "cpu";
  bool cuda_graph = true;
  RunOptions o = parse_options(argc, argv, config, help, [&](CommandLine& cli) {
    if (cuda) add_device_options(cli, device, cuda_graph);
  });
  if (help) return 0;
  o.device = device;
  o.cuda_graph = cuda_graph;
  if (o.device == "cuda") return cuda(o, config);
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

  print_run_header(std::cout, o, config, train.count, test.count, std::to_string(o.threads) + " threads");

  Model<Net> model(o.seed, o.batch, test_options.batch_size);
  SGD<float> sgd(o.lr, config.momentum, 0, o.weight_decay);
  const long steps_per_epoch = train_loader.batches_per_epoch();
  StepSchedule schedule;
  schedule.lr_at = lr_schedule(o, config, steps_per_epoch);

  ProgressBar progress(std::cout, progress_mode(o));
  Trainer<Model<Net>, NLLLoss> trainer(model, NLLLoss{}, progress);

  RunReport report(o);

  const auto start = std::chrono::steady_clock::now();
  for (int epoch = 1; epoch <= o.epochs; ++epoch) {
    const std::string label = "epoch " + std::to_string(epoch) + "/" + std::to_string(o.epochs);
    const EpochResult r = trainer.train_epoch(train_loader, sgd, schedule, epoch, label);
    const EvalResult t = evaluate(model, test_loader, NLLLoss{});
    EpochFigures f;
    f.train_loss = r.train.loss;
    f.train_correct = r.train.correct;
    f.train_total = r.train.total;
    f.test_loss = t.loss;
    f.test_correct = t.correct;
    f.test_total = t.total;
    f.lr = r.lr;
    f.seconds = r.seconds;
    f.images = r.images;
    report.epoch(epoch, label, f, std::cout);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  report.summary(std::cout);
  if (!o.save.empty()) {
    save_checkpoint(model, o.save, {{{"example", config.name}, {"epochs", std::to_string(o.epochs)}}, {}});
    std::cout << "saved " << o.save << "\n";
  }

  const JsonValue summary_line = report.json(config, Net::parameter_count, seconds);
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
