// examples/cuda/mnist_cuda.cuh — the MNIST examples' training loop on the GPU (nvcc only; no Eigen).
//
// Requires: Net a classifier on Input<1, 28, 28> ending in LogSoftmax; a usable CUDA device (check with
// cuda::device_problem() first). Guarantees:
//   * MnistTrainer<Net> holds Model<Net, Cuda>, both MNIST splits uploaded once (cuda::DeviceDataset), the
//     epoch's sample order (cuda::EpochOrder: DataLoader's shuffle for the same seed and epoch), the epoch's
//     augmentation draws (cuda::DeviceAugment: DataLoader's, bit for bit), cuda::SGD and device Metrics.
//     A training step is gather (+ augment) -> forward -> NLL loss and gradient -> backward -> SGD, all on
//     the device; with the graph on, the first full batch runs eagerly and is then captured as a CUDA graph
//     that every later full batch replays (the last, partial batch of an epoch runs eagerly). Metrics are
//     read back only when asked (progress updates and the end of the epoch).
//   * run_cuda_example<Net> is the CUDA counterpart of run_mnist_example: same options, header, per-epoch
//     line, CSV, checkpoint format and JSON line (plus "device":"cuda", "gpu", "cuda_graph").
//   * Numerical faults: the loss stays on the device, so it is checked whenever the metrics are read back
//     (each progress update and the end of every epoch): a non-finite mean loss stops training with a
//     NumericalError naming the epoch, the range of steps since the last finite reading and the first
//     parameter tensor that is no longer finite; a non-finite test loss stops it likewise. (The CPU
//     trainer checks every step and names the first non-finite layer.)
// Dropout masks: eager steps use the CPU's step numbers, so --cuda-graph off draws the CPU's masks; a
// replayed graph numbers its steps consecutively from the capture (a partial batch's eager step then gets a
// number of its own, far from the graph's), so with the graph on the masks differ from the CPU's.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <future>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <ctnet/backend/cuda/augment.cuh>
#include <ctnet/core/json.hpp>
#include <ctnet/cuda.cuh>
#include <ctnet/data/mnist.hpp>
#include <ctnet/data/transforms.hpp>
#include <ctnet/inspect/summary.hpp>
#include <ctnet/train/checkpoint.hpp>
#include <ctnet/train/numeric_guard.hpp>
#include <ctnet/train/progress.hpp>

#include "../common/cuda_driver.hpp"
#include "../common/mnist_data.hpp"
#include "../common/options.hpp"
#include "../common/report.hpp"

namespace examples::cuda_run {

using namespace ctnet;

// Prints the error and returns false when no GPU can be used.
inline bool require_device(const char* what) {
  const std::string& problem = cuda::device_problem();
  if (problem.empty()) return true;
  std::cerr << "error: " << what << ": no usable CUDA device (" << problem << ")\n";
  return false;
}

inline std::string device_name() {
  int device = 0;
  cudaDeviceProp prop{};
  if (cudaGetDevice(&device) != cudaSuccess || cudaGetDeviceProperties(&prop, device) != cudaSuccess) {
    (void)cudaGetLastError();
    return "unknown CUDA device";
  }
  return prop.name;
}

struct TrainerOptions {
  std::uint64_t seed = 1;
  int batch = 128;
  int eval_batch = 1000;
  double lr = 0.01;  // until set per step
  double momentum = 0.9;
  double weight_decay = 0;
  std::optional<RandomAffine> augment;
  bool graph = true;
};

// The trainer for an example's run: its batch, seed, SGD and augmentation, and --cuda-graph.
inline TrainerOptions trainer_options(const RunOptions& o, const MnistExampleConfig& config) {
  TrainerOptions t;
  t.seed = o.seed;
  t.batch = o.batch;
  t.lr = o.lr;
  t.momentum = config.momentum;
  t.weight_decay = o.weight_decay;
  t.augment = augmentation(o);
  t.graph = o.cuda_graph;
  return t;
}

struct TrainFigures {
  double loss = 0;  // mean over samples
  long correct = 0, total = 0;
};

template <class Net>
class MnistTrainer {
 public:
  using M = Model<Net, Cuda, float>;
  static constexpr int classes = int(M::output_size);
  // Eager steps of partial batches get step numbers from here on, apart from a graph's consecutive ones.
  static constexpr std::uint64_t tail_step_base = std::uint64_t(1) << 40;

  MnistTrainer(const Dataset& train, const Dataset& test, const TrainerOptions& o)
      : o_(o),
        model_(o.seed, o.batch, std::min(o.eval_batch, test.count)),
        train_(train),
        test_(test),
        order_(train.count),
        test_order_(test.count),
        targets_(std::size_t(std::max(o.batch, std::min(o.eval_batch, test.count)))),
        grad_(std::size_t(o.batch) * classes),
        metrics_(1),
        eval_metrics_(1),
        sgd_(typename cuda::SGD<float>::Options{o.lr, o.momentum, 0, o.weight_decay, false},
             std::size_t(M::parameter_count)),
        full_batches_(train.count / o.batch),
        tail_(train.count % o.batch) {
    if (train.rows * train.cols != M::input_size || test.rows * test.cols != M::input_size)
      throw Error("MnistTrainer: images of " + std::to_string(train.rows) + "x" + std::to_string(train.cols) +
                  "; the network takes " + std::to_string(M::input_size) + " pixels");
    if (o.augment) augment_.emplace(*o.augment, o.seed);
    test_order_.set_epoch(0, 0, false);
    // One inference batch of the largest size first, so scratch memory has its final size before a graph is
    // captured (evaluation between epochs then never moves it).
    infer_batch(0, std::min(o.eval_batch, test.count));
    cuda::synchronize();
  }

  long batches_per_epoch() const { return full_batches_ + (tail_ ? 1 : 0); }
  long global_step() const { return step_; }
  M& model() { return model_; }
  bool graph_used() const { return graph_.captured(); }

  // Starts epoch `epoch` (DataLoader::start_epoch(epoch)): its order and augmentation, metrics zeroed.
  void begin_epoch(int epoch) {
    order_.set_epoch(o_.seed, epoch);
    if (augment_) {
      std::vector<kernels::AffineCoefficients> table;
      if (next_table_.valid() && next_table_epoch_ == epoch)
        table = next_table_.get();
      else
        kernels::affine_table(augment_->augment(), o_.seed, epoch, train_.count(), train_.rows(), train_.cols(), table);
      augment_->upload(table);
      // Draw the next epoch's transforms on a host thread while the device trains this one.
      next_table_epoch_ = epoch + 1;
      next_table_ = std::async(std::launch::async, [a = augment_->augment(), seed = o_.seed, e = epoch + 1,
                                                     n = train_.count(), r = train_.rows(), c = train_.cols()] {
        std::vector<kernels::AffineCoefficients> t;
        kernels::affine_table(a, seed, e, n, r, c, t);
        return t;
      });
    }
    epoch_ = epoch;
    metrics_.zero();
  }

  // Full batch j (0 <= j < full batches) of the current epoch at learning rate lr.
  void full_step(long j, double lr) {
    sgd_.set_lr(lr);
    if (o_.graph && graph_.captured()) {
      // Replay r trains batch (captured batch + r) mod full batches: check it is batch j.
      if ((graph_batch_ + long(graph_.replays())) % full_batches_ != j)
        throw Error("MnistTrainer: internal error: the CUDA graph's batch is out of step with the epoch");
      sgd_.stage();
      graph_.replay();
    } else {
      body(order_.data(), j, o_.batch, full_batches_, false);
      if (o_.graph) capture((j + 1) % full_batches_);
    }
    ++step_;
  }

  // The epoch's last, partial batch (train count mod batch samples), eagerly.
  void tail_step(double lr) {
    sgd_.set_lr(lr);
    if (graph_.captured()) model_.set_step(tail_step_base + std::uint64_t(epoch_) - 1);
    body(order_.data() + full_batches_ * long(o_.batch), 0, tail_, 1, false);
    ++step_;
  }

  // Runs epoch `epoch`; `lr_at(global step, epoch)` sets each step's learning rate; `progress(done, figures)`
  // is called at `updates` evenly spaced batches and after the last (each call reads the metrics back).
  TrainFigures train_epoch(int epoch, const std::function<double(long, int)>& lr_at, int updates,
                           const std::function<void(long, const TrainFigures&)>& progress, double& last_lr) {
    model_.train();
    begin_epoch(epoch);
    const long total = batches_per_epoch();
    const long every = updates > 0 ? std::max(1L, (total + updates - 1) / updates) : total + 1;
    long done = 0;
    long checked = step_;  // steps up to here gave a finite loss
    const auto read_checked = [&] {
      const TrainFigures f = read_train();
      if (!std::isfinite(f.loss)) throw NumericalError(divergence(epoch, checked, f.loss));
      checked = step_;
      return f;
    };
    const auto step_done = [&] {
      ++done;
      if (progress && (done % every == 0 || done == total)) progress(done, read_checked());
    };
    for (long j = 0; j < full_batches_; ++j) {
      last_lr = lr_at(step_, epoch);
      full_step(j, last_lr);
      step_done();
    }
    if (tail_) {
      last_lr = lr_at(step_, epoch);
      tail_step(last_lr);
      step_done();
    }
    sync_model_step();
    return read_checked();
  }

  TrainFigures read_train() const {
    const cuda::Metrics m = cuda::read_metrics(metrics_);
    check_targets(m);
    return {m.mean_loss(), long(m.correct), long(m.samples)};
  }

  // Test-set loss and accuracy: eval mode, running statistics, no dropout (as Model::predict).
  TrainFigures evaluate() {
    eval_metrics_.zero();
    for (int first = 0; first < test_.count(); first += o_.eval_batch) {
      const int n = std::min(o_.eval_batch, test_.count() - first);
      const float* out = infer_batch(first, n);
      cuda::nll_loss(out, targets_.data(), n, classes, static_cast<float*>(nullptr), eval_metrics_.data());
    }
    const cuda::Metrics m = cuda::read_metrics(eval_metrics_);
    check_targets(m);
    if (!std::isfinite(m.mean_loss()))
      throw NumericalError("evaluation diverged: the mean test loss is " + value_name(m.mean_loss()) + "; " +
                           first_nonfinite_parameter() + "; " + detail::divergence_hint());
    return {m.mean_loss(), long(m.correct), long(m.samples)};
  }

  // Forward passes over the whole test set only (inference throughput); waits for the device.
  void infer_all() {
    for (int first = 0; first < test_.count(); first += o_.eval_batch)
      infer_batch(first, std::min(o_.eval_batch, test_.count() - first));
    cuda::synchronize();
  }

  // After graph replays Model's host step is frozen at the capture: set it to the steps trained.
  void sync_model_step() { model_.set_step(std::uint64_t(step_)); }

 private:
  // One training step on batch `batch` of `order` (batch_size samples; batches_per_epoch for the graph's
  // wrap-around); staged: SGD reads its coefficients from device memory (inside a graph).
  void body(const int* order, long batch, int batch_size, long batches_per_epoch, bool staged) {
    model_.zero_grad();
    if (augment_)
      augment_->gather(train_, order, batch, batch_size, batches_per_epoch, model_.input_buffer(), targets_.data());
    else
      train_.gather(order, batch, batch_size, batches_per_epoch, model_.input_buffer(), targets_.data());
    const float* out = model_.forward_resident(batch_size);
    cuda::nll_loss(out, targets_.data(), batch_size, classes, grad_.data(), metrics_.data());
    model_.backward(grad_.data());
    if (staged)
      sgd_.apply_staged(model_.parameter_data(), model_.gradient_data());
    else
      sgd_.step(model_.parameter_data(), model_.gradient_data());
  }

  // Records the step on full batch `batch` (replay r then trains batch + r, modulo the full batches). If
  // the capture itself fails (cuda::CaptureError), says why on stderr and trains eagerly from here on; any
  // other error (a fault of the eager step before, found by the synchronisation first) ends the run.
  void capture(long batch) {
    const std::uint64_t model_step = model_.step();
    cuda::synchronize();  // the eager step's faults are reported as its own, not as the capture's
    try {
      graph_batch_ = batch;
      graph_.capture([&] { body(order_.data(), graph_batch_, o_.batch, full_batches_, true); });
    } catch (const cuda::CaptureError& e) {
      std::cerr << "note: capturing the training step as a CUDA graph failed (" << e.what()
                << "); training without a graph\n";
      o_.graph = false;
      model_.set_step(model_step);  // the failed capture advanced it
    }
  }

  // The message for a non-finite mean loss read back in `epoch` after the steps from first_step on.
  std::string divergence(int epoch, long first_step, double loss) const {
    return "training diverged on the GPU in epoch " + std::to_string(epoch) + ", at one of training steps " +
           std::to_string(first_step + 1) + " to " + std::to_string(step_) +
           " (the loss is read back at each progress update and epoch end): the mean loss is " + value_name(loss) +
           "; " + first_nonfinite_parameter() + "; " + detail::divergence_hint();
  }
  std::string first_nonfinite_parameter() const {
    const std::vector<float> p = model_.read_parameters();
    for (const NamedTensor& t : M::named_parameters())
      if (const long i = first_nonfinite(p.data() + t.offset, std::size_t(t.size)); i >= 0)
        return "first non-finite parameter: '" + t.name + "' holds " + nonfinite_place(p.data() + t.offset, i);
    return "the parameters are still finite";
  }

  // Model::predict with the batch gathered on the device instead of uploaded.
  const float* infer_batch(int first, int n) {
    test_.gather(test_order_.data() + first, 0, n, 1, model_.input_buffer(), targets_.data());
    Context<float> c = model_.context();
    c.training = false;
    c.inference = true;
    Net::template forward<Cuda>(c, model_.input_buffer(), model_.output_data(), n);
    return model_.output_data();
  }

  static void check_targets(const cuda::Metrics& m) {
    if (m.invalid_targets)
      throw DataError("MnistTrainer: " + std::to_string(m.invalid_targets) + " labels outside 0.." +
                      std::to_string(classes - 1));
  }

  TrainerOptions o_;
  M model_;
  cuda::DeviceDataset train_, test_;
  cuda::EpochOrder order_, test_order_;
  std::optional<cuda::DeviceAugment> augment_;
  std::future<std::vector<kernels::AffineCoefficients>> next_table_;
  int next_table_epoch_ = -1;
  cuda::Buffer<int> targets_;
  cuda::Buffer<float> grad_;
  cuda::Buffer<cuda::Metrics> metrics_, eval_metrics_;
  cuda::SGD<float> sgd_;
  cuda::Graph graph_;
  long graph_batch_ = 0;
  long full_batches_;
  int tail_;
  int epoch_ = 0;
  long step_ = 0;  // training steps taken (the CPU's global step)
};

template <class Net>
int run_cuda_example(const RunOptions& o, const MnistExampleConfig& config) {  // errors: the caller's guarded_main
  if (!require_device("--device cuda")) return 1;
  const std::string gpu = device_name();

  std::cout << config.description << "\n\n";
  summary<Net>(std::cout);

  MnistSplits splits = load_splits<typename Net::input_shape_t>(o, int(Net::output_shape_t::size));
  Dataset& train = splits.train;
  Dataset& test = splits.test;

  const TrainerOptions t = trainer_options(o, config);
  print_run_header(std::cout, o, config, train.count, test.count,
                   "GPU " + gpu + (o.cuda_graph ? " (CUDA graph)" : " (eager)"));

  MnistTrainer<Net> trainer(train, test, t);
  const auto lr_at = lr_schedule(o, config, trainer.batches_per_epoch());
  const ProgressBar::Mode mode = progress_mode(o);
  ProgressBar progress(std::cout, mode);
  RunReport report(o);

  const auto start = std::chrono::steady_clock::now();
  for (int epoch = 1; epoch <= o.epochs; ++epoch) {
    const std::string label = "epoch " + std::to_string(epoch) + "/" + std::to_string(o.epochs);
    const auto epoch_start = std::chrono::steady_clock::now();
    progress.start(label, trainer.batches_per_epoch());
    const int updates = mode == ProgressBar::Mode::bar ? 20 : mode == ProgressBar::Mode::lines ? 4 : 0;
    double lr = 0;
    const TrainFigures r = trainer.train_epoch(
        epoch, lr_at, updates,
        [&](long done, const TrainFigures& so_far) {
          progress.update(done, so_far.total, so_far.loss, so_far.total ? double(so_far.correct) / so_far.total : 0);
        },
        lr);
    EpochFigures f;
    f.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start).count();
    const TrainFigures e = trainer.evaluate();
    f.train_loss = r.loss;
    f.train_correct = r.correct;
    f.train_total = r.total;
    f.test_loss = e.loss;
    f.test_correct = e.correct;
    f.test_total = e.total;
    f.lr = lr;
    f.images = r.total;
    report.epoch(epoch, label, f, std::cout);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  report.summary(std::cout);
  if (!o.save.empty()) {
    save_checkpoint(trainer.model(), o.save, {{{"example", config.name}, {"epochs", std::to_string(o.epochs)}}, {}});
    std::cout << "saved " << o.save << "\n";
  }
  JsonValue line = report.json(config, Net::parameter_count, seconds);
  line["device"] = "cuda";
  line["gpu"] = gpu;
  line["cuda_graph"] = trainer.graph_used();
  std::cout << to_json(line) << std::endl;
  return 0;
}

}  // namespace examples::cuda_run
