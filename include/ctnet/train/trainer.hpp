// ctnet/train/trainer.hpp — the training and evaluation loops for classifiers.
//
// Requires: a Model whose backend memory is host memory (the CPU), a loss with forward/backward over
// (scores, int targets) such as NLLLoss or CrossEntropyLoss, and an optimizer with step(params, grads)
// and set_lr. Guarantees: train_epoch runs one pass over a DataLoader in training mode, setting the
// learning rate before every step from `lr_at(global_step, epoch)` (per-batch schedules such as OneCycleLR
// and per-epoch ones such as StepLR alike), and reports mean loss and accuracy; evaluate runs Model::predict
// (running BatchNorm statistics, no dropout, no activations kept). No allocation per batch. Both first
// check that the loader's data fit the network (check_fits: image shape, labels below the class count),
// so data of the wrong shape is a ctnet::DataError before any step, never a read past a buffer.
// A non-finite
// loss or gradient stops training before the optimizer step with a NumericalError naming the step and the
// first non-finite layer (numeric_guard.hpp); a non-finite evaluation loss stops evaluate likewise.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "../data/loader.hpp"
#include "metrics.hpp"
#include "numeric_guard.hpp"
#include "progress.hpp"

namespace ctnet {

struct EvalResult {
  double loss = 0;  // mean over samples
  long correct = 0;
  long total = 0;
  double accuracy() const { return total > 0 ? double(correct) / double(total) : 0; }
};

struct EpochResult {
  EvalResult train;
  double lr = 0;  // the learning rate of the epoch's last step
  double seconds = 0;
  long images = 0;
};

// Per-step schedule hooks: the learning rate (and optionally the momentum) for a global step and epoch.
struct StepSchedule {
  std::function<double(long step, int epoch)> lr_at;
  std::function<double(long step, int epoch)> momentum_at;  // empty: momentum stays fixed
};

template <class M, class Loss>
EvalResult evaluate(M& model, DataLoader& loader, const Loss& loss) {
  constexpr int classes = int(M::output_size);
  check_fits<typename M::network::input_shape_t>(loader.dataset(), classes);
  EvalResult r;
  Batch batch;
  loader.start_epoch(0);
  for (long b = 1; loader.next(batch); ++b) {
    const auto* out = model.predict(batch.images.data(), batch.size);
    const double batch_loss = double(loss.forward(out, batch.labels.data(), batch.size, classes));
    check_evaluation_batch<typename M::network>(batch_loss, b, out, batch.size);
    r.loss += batch_loss * batch.size;
    r.correct += correct_count(out, batch.labels.data(), batch.size, classes);
    r.total += batch.size;
  }
  if (r.total > 0) r.loss /= double(r.total);
  return r;
}

template <class M, class Loss>
class Trainer {
 public:
  using T = typename M::scalar;
  static constexpr int classes = int(M::output_size);

  Trainer(M& model, Loss loss, ProgressBar& progress) : model_(model), loss_(loss), progress_(progress) {
    grad_.resize(std::size_t(model.max_batch() * M::output_size));
  }

  template <class Optimizer>
  EpochResult train_epoch(DataLoader& loader, Optimizer& optimizer, const StepSchedule& schedule, int epoch,
                          const std::string& label) {
    check_fits<typename M::network::input_shape_t>(loader.dataset(), classes);
    const auto start = std::chrono::steady_clock::now();
    model_.train();
    EpochResult r;
    Batch batch;
    loader.start_epoch(epoch);
    progress_.start(label, loader.batches_per_epoch());
    long done = 0;
    while (loader.next(batch)) {
      r.lr = schedule.lr_at(step_, epoch);
      optimizer.set_lr(r.lr);
      if (schedule.momentum_at) optimizer.set_momentum(schedule.momentum_at(step_, epoch));
      const T* out = model_.forward(batch.images.data(), batch.size);
      const double batch_loss = double(loss_.forward(out, batch.labels.data(), batch.size, classes));
      r.train.loss += batch_loss * batch.size;
      r.train.correct += correct_count(out, batch.labels.data(), batch.size, classes);
      r.train.total += batch.size;
      loss_.backward(out, batch.labels.data(), batch.size, classes, grad_.data());
      model_.zero_grad();
      model_.backward(grad_.data());
      check_training_step(model_, batch_loss, grad_.data(), {step_ + 1, epoch, done + 1, r.lr});
      optimizer.step(model_.parameters(), model_.gradients());
      ++step_;
      ++done;
      progress_.update(done, r.train.total, r.train.loss / double(r.train.total), r.train.accuracy());
    }
    if (r.train.total > 0) r.train.loss /= double(r.train.total);
    r.images = r.train.total;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return r;
  }

  long global_step() const { return step_; }
  // Where a resumed run continues (training_state.hpp's TrainingCounters::global_step).
  void set_global_step(long step) { step_ = step; }

 private:
  M& model_;
  Loss loss_;
  ProgressBar& progress_;
  std::vector<T> grad_;
  long step_ = 0;
};

}  // namespace ctnet
