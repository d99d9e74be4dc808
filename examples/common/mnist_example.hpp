// examples/common/mnist_example.hpp — the shared driver of the MNIST example programs.
//
// Requires: Net a classifier network on Input<1, 28, 28> ending in LogSoftmax over 10 classes.
// Guarantees: parses and validates the common options (--help states each default), prints the network's
// summary, trains with SGD (momentum) under OneCycleLR or StepLR, evaluates on the test set after every
// epoch, prints one line per epoch and writes the same to a CSV file, with --save keeps the whole training
// state after every epoch (common/resume.hpp) and with --resume continues one to the same bits, and
// ends with one JSON line (example, parameters, epochs, seed, per-epoch test accuracy, best, last,
// seconds). Errors in options or data print one "error: ..." line and exit with status 2 or 1 (see
// guarded_main in cli.hpp); data that do not fit Net (image shape, labels) and unwritable --save/--csv
// paths are refused before training. Given a CudaRun (common/cuda_driver.hpp), it also offers --device
// cuda and --cuda-graph and hands a cuda run to it; options that do not apply to the chosen device are
// refused (--cuda-graph on the CPU, --threads on the GPU). Under mpirun (common/distributed.hpp) the run is
// data-parallel on the CPU: every rank reads the data and trains on its share of each global batch of
// --batch; rank 0 alone prints, evaluates (its replica), writes the CSV and saves; every rank resumes from
// --resume; without --threads or OMP_NUM_THREADS each rank takes its share of the cores; --batch-norm picks
// per-replica, averaged or synchronised batch-norm statistics (ctnet::BufferSync). --validation N evaluates on
// the last N training images instead of the test set (for searches; see scripts/search_mnist.py).
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
#include "mnist_data.hpp"
#include "cuda_driver.hpp"
#include "distributed.hpp"
#include "onnx_export.hpp"
#include "options.hpp"
#include "report.hpp"
#include "resume.hpp"

namespace examples {

// Under mpirun the ranks share the machine: without --threads or OMP_NUM_THREADS each takes its share.
inline int threads_per_rank(const RunOptions& o, int ranks) {
  const char* omp_threads = std::getenv("OMP_NUM_THREADS");
  return ranks > 1 && !o.was_given("--threads") && !(omp_threads && *omp_threads) ? std::max(1, o.threads / ranks)
                                                                                  : o.threads;
}

// The program: `cuda`, when given, trains the same network on a GPU for --device cuda (see common/cuda_driver.hpp).
template <class Net>
int mnist_example_body(int argc, char** argv, const MnistExampleConfig& config, CudaRun cuda, Distributed& dist) {
  using namespace ctnet;
  std::string batch_norm_mode = "replica";
  long validation = 0;
  const std::optional<RunOptions> parsed =
      parse_options(argc, argv, config, cuda ? GpuPath::graph : GpuPath::none, [&](CommandLine& cli) {
        cli.choice("--batch-norm", "MODE", batch_norm_mode, {"replica", "average", "sync"},
                   "under mpirun, batch-norm statistics per replica (as PyTorch DDP), averaged over the ranks "
                   "after every step, or sync: the global batch's (SyncBatchNorm); one process: no effect "
                   "(default: replica)");
        cli.number("--validation", "N", validation, 1L, 50000L,
                   "hold out the last N training images, train on the rest and evaluate on them instead of the "
                   "test set, to choose a recipe without looking at the test set, 1-50000 (default: off)");
      });
  if (!parsed) return 0;  // --help
  RunOptions o = *parsed;
  o.batch_norm = batch_norm_mode;
  o.validation = validation;
  if (validation && o.was_given("--test-limit"))
    throw OptionError("--test-limit: does not apply with --validation (the test set is not used)");
  check_resume_device(o);
  const int ranks = dist.ranks();
  if (ranks > 1 && o.device == "cuda")
    throw OptionError("--device cuda: a distributed run (mpirun) trains on the CPU only");
  check_export_device(o);
  if (o.device == "cuda") {
    if (o.was_given("--batch-norm")) throw OptionError("--batch-norm: does not apply with --device cuda");
    if (o.was_given("--threads")) throw OptionError("--threads: does not apply with --device cuda");
    return cuda(o, config);
  }
  if (o.was_given("--cuda-graph")) throw OptionError("--cuda-graph: applies only with --device cuda");
  const int threads = threads_per_rank(o, ranks);
  Cpu::set_threads(threads);

  // The data are read and checked against Net before anything is printed or trained.
  const MnistSplits data = load_splits<typename Net::input_shape_t>(o, int(Net::output_shape_t::size));

  std::cout << config.description << "\n\n";
  summary<Net>(std::cout);

  // Every rank reads the data and takes its share of each global batch of --batch.
  LoaderOptions train_options = train_loader_options(o);
  train_options.shard_rank = dist.comm().rank();
  train_options.shard_count = ranks;
  DataLoader train_loader(data.train, train_options), test_loader(data.test, test_loader_options());

  const std::string workers =
      std::to_string(threads) + " threads" + (ranks > 1 ? ", " + std::to_string(ranks) + " ranks" : "");
  print_run_header(std::cout, o, config, data.train.count, data.test.count, workers);

  Model<Net> model(o.seed, o.batch, test_batch);
  SGD<float> sgd(o.lr, config.momentum, 0, o.weight_decay);
  const long steps_per_epoch = train_loader.batches_per_epoch();
  StepSchedule schedule;
  schedule.lr_at = lr_schedule(o, config, steps_per_epoch);

  ProgressBar progress(std::cout, progress_mode(o));
  const BufferSync batch_norm = o.batch_norm == "sync"      ? BufferSync::sync_batch_norm
                                : o.batch_norm == "average" ? BufferSync::average
                                                            : BufferSync::per_replica;
  Trainer<Model<Net>, NLLLoss> trainer(model, NLLLoss{}, progress, dist.comm(), batch_norm);

  const RunIdentity identity = run_identity(o, config);
  TrainingRecord record{
      identity, {}, {figure_columns(), {}}, {{"example", config.name}, {"epochs", std::to_string(o.epochs)}}};
  std::vector<EpochFigures> resumed;
  if (!o.resume.empty()) {
    const TrainingState state = load_training_state(o.resume, model, sgd, train_loader, identity);
    resumed = resumed_figures(state, o.resume);
    record.history = state.history;
    trainer.set_global_step(state.counters.global_step);
    if (!announce_resume(std::cout, o, state.counters.epoch)) return 0;
  }
  // Rank 0 alone writes the CSV and the training state (every rank may read them).
  RunOptions report_options = o;
  report_options.threads = threads;
  if (!dist.root()) report_options.csv = "-";
  const std::string save_path = dist.root() ? state_path(o) : std::string();
  RunReport report(report_options, resumed);

  const auto start = std::chrono::steady_clock::now();
  for (int epoch = int(resumed.size()) + 1; epoch <= o.epochs; ++epoch) {
    const std::string label = "epoch " + std::to_string(epoch) + "/" + std::to_string(o.epochs);
    const EpochResult r = trainer.train_epoch(train_loader, sgd, schedule, epoch, label);
    // Rank 0's replica is the model (its batch-norm statistics are the ones saved): it alone is evaluated.
    const EvalResult t = dist.root() ? evaluate(model, test_loader, NLLLoss{}) : EvalResult{};
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
    if (!save_path.empty()) {
      record.counters = TrainingCounters{epoch, trainer.global_step()};
      record.history.rows.push_back(figure_row(f));
      save_training_state(save_path, model, sgd, train_loader, record);
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  report.summary(std::cout);
  if (!state_path(o).empty()) std::cout << "saved " << state_path(o) << " (the training state after every epoch)\n";
  if (dist.root()) export_onnx_if_asked(o.common, model, std::cout);  // rank 0's replica, as saved

  const JsonValue summary_line = report.json(config, Net::parameter_count, seconds);
  std::cout << to_json(summary_line) << std::endl;
  return 0;
}

template <class Net>
int run_mnist_example(int argc, char** argv, const MnistExampleConfig& config, CudaRun cuda = nullptr) {
  std::optional<Distributed> dist;
  const int status = guarded_main(config.name, [&] {
    dist.emplace(argc, argv);
    return mnist_example_body<Net>(argc, argv, config, cuda, *dist);
  });
  return dist ? dist->finish(status) : status;
}

}  // namespace examples
