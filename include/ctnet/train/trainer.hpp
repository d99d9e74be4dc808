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
// Data parallelism (dist/communicator.hpp): given a Communicator of N ranks, each running this trainer on a
// loader sharded rank of N, every step scales the rank's loss gradient by its share of the global batch, sums
// the gradient arena over the ranks in rank order, and applies the same update on every rank, so replicas
// stay bit-identical; construction broadcasts rank 0's parameters and buffers. The epoch's figures are the
// global batch's on every rank. Batch-norm running statistics stay per replica (as PyTorch DDP) unless
// BufferSync::average, which replaces them after every step by the ranks' mean. A non-finite step on any
// rank stops every rank (the rank that saw it names the layer). With one rank the steps are the
// single-process ones, bit for bit.
#pragma once

#include <chrono>
#include <cmath>
#include <span>
#include <functional>
#include <string>
#include <vector>

#include "../data/loader.hpp"
#include "../dist/communicator.hpp"
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
    if (batch.size == 0) continue;  // a shard's empty share of a short batch
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

// Sharded evaluation: every rank evaluates its shard of `loader` (LoaderOptions::shard_*), and every rank
// returns the figures of the whole set. Meaningful when the replicas' buffers agree (no batch norm, or
// BufferSync::average); with per-replica statistics each shard is scored by its own rank's.
template <class M, class Loss>
EvalResult evaluate(M& model, DataLoader& loader, const Loss& loss, Communicator& comm) {
  EvalResult r = evaluate(model, loader, loss);
  double sums[3] = {r.loss * double(r.total), double(r.correct), double(r.total)};
  comm.allreduce_sum_ordered(std::span<double>(sums, 3));
  r.correct = long(sums[1]);
  r.total = long(sums[2]);
  r.loss = r.total > 0 ? sums[0] / sums[2] : 0;
  return r;
}

// How the buffer arena (batch-norm running statistics) is kept across data-parallel replicas.
enum class BufferSync {
  per_replica,  // rank 0's at the start, then each replica's own batches (PyTorch DDP's SyncBatchNorm-less case)
  average,      // after every step, the mean over the ranks (sum in rank order, then / ranks): identical buffers
  // SyncBatchNorm: batch norm normalises with the statistics of the whole global batch (per-channel sums
  // summed over the ranks in forward, and the input gradient's sums in backward), so the running statistics
  // are the same bits on every rank and a network with batch norm takes one process's steps (up to float
  // summation order). CPU backend only; every global batch needs at least one row per rank.
  sync_batch_norm,
};

template <class M, class Loss>
class Trainer {
 public:
  using T = typename M::scalar;
  static constexpr int classes = int(M::output_size);

  Trainer(M& model, Loss loss, ProgressBar& progress) : Trainer(model, loss, progress, nullptr) {}
  // Data-parallel: a collective (every rank constructs its trainer); `comm` outlives the trainer.
  Trainer(M& model, Loss loss, ProgressBar& progress, Communicator& comm, BufferSync buffers = BufferSync::per_replica)
      : Trainer(model, loss, progress, &comm) {
    buffer_sync_ = buffers;
    comm_->broadcast(model.parameters(), 0);
    comm_->broadcast(model.buffers(), 0);
    if (buffers == BufferSync::sync_batch_norm) {
      if constexpr (requires { model.execution_context().batch_sums_hook; }) {
        synchronize_batch_norm(true);
      } else {
        throw OptionError("Trainer: BufferSync::sync_batch_norm needs the CPU backend");
      }
    }
  }
  ~Trainer() { synchronize_batch_norm(false); }
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

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
      const TrainingStep at{step_ + 1, epoch, done + 1, r.lr};
      if (buffer_sync_ == BufferSync::sync_batch_norm && batch.global_size > 0 && batch.global_size < comm_->size())
        throw OptionError("Trainer: BufferSync::sync_batch_norm: batch " + std::to_string(done + 1) + " of epoch " +
                          std::to_string(epoch) + " has " + std::to_string(batch.global_size) + " rows for " +
                          std::to_string(comm_->size()) + " ranks (each rank needs one; drop_last or another "
                          "batch size avoids a short last batch)");
      // {loss * rows, correct, rows, ranks with a non-finite step}, summed over the ranks.
      double stats[4] = {0, 0, 0, 0};
      model_.zero_grad();
      double batch_loss = 0;
      if (batch.size > 0) {
        model_.set_first_row(std::uint64_t(batch.first_row));  // dropout draws the global batch's masks
        const T* out = model_.forward(batch.images.data(), batch.size);
        batch_loss = double(loss_.forward(out, batch.labels.data(), batch.size, classes));
        stats[0] = batch_loss * batch.size;
        stats[1] = double(correct_count(out, batch.labels.data(), batch.size, classes));
        stats[2] = batch.size;
        // The global mean's gradient is the sum over ranks of (rows / global rows) x the local mean's.
        const int global = batch.global_size > 0 ? batch.global_size : batch.size;
        const T scale = batch.size == global ? T(1) : T(batch.size) / T(global);
        loss_.backward(out, batch.labels.data(), batch.size, classes, grad_.data(), scale);
        model_.backward(grad_.data());
        if (!(std::isfinite(batch_loss) && all_finite(model_.gradients()) && all_finite(model_.buffers())))
          stats[3] = 1;
      } else if (model_.training()) {
        model_.set_step(model_.step() + 1);  // keeps the dropout counter with the other ranks'
      }
      comm_->allreduce_sum_ordered(std::span<double>(stats, 4));
      if (stats[3] != 0) {
        if (batch.size > 0) {
          synchronize_batch_norm(false);  // the diagnosis re-runs this rank's batch alone
          check_training_step(model_, batch_loss, grad_.data(), at);  // throws here
        }
        throw NumericalError("training diverged at " + detail::step_text(at) + " on " +
                             std::to_string(long(stats[3])) + " other rank(s) of " + std::to_string(comm_->size()) +
                             " (their error names the layer)");
      }
      comm_->allreduce_sum_ordered(model_.gradients());
      // Finite parts can overflow when summed; the sum has the same bits on every rank, so all stop here.
      if (comm_->size() > 1 && !all_finite(model_.gradients()))
        throw NumericalError("training diverged at " + detail::step_text(at) + ": the gradient summed over " +
                             std::to_string(comm_->size()) + " ranks overflows (each rank's is finite); " +
                             detail::divergence_hint());
      optimizer.step(model_.parameters(), model_.gradients());
      if (buffer_sync_ == BufferSync::average && comm_->size() > 1) {
        const std::span<T> b = model_.buffers();
        comm_->allreduce_sum_ordered(b);
        for (T& v : b) v /= T(comm_->size());
      }
      r.train.loss += stats[0];
      r.train.correct += long(stats[1]);
      r.train.total += long(stats[2]);
      ++step_;
      ++done;
      if (after_step) after_step(step_);
      progress_.update(done, r.train.total, r.train.loss / double(r.train.total), r.train.accuracy());
    }
    if (r.train.total > 0) r.train.loss /= double(r.train.total);
    r.images = r.train.total;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return r;
  }

  long global_step() const { return step_; }
  // Called after every step (update and buffer sync done) with the global step: tests comparing replicas.
  std::function<void(long global_step)> after_step;
  const Communicator& communicator() const { return *comm_; }
  // Where a resumed run continues (training_state.hpp's TrainingCounters::global_step).
  void set_global_step(long step) { step_ = step; }

 private:
  void synchronize_batch_norm(bool on) {
    if constexpr (requires { model_.execution_context().batch_sums_hook; }) {
      if (buffer_sync_ != BufferSync::sync_batch_norm) return;
      auto& hook = model_.execution_context().batch_sums_hook;
      if (on)
        hook = [comm = comm_](std::span<double> sums) { comm->allreduce_sum_ordered(sums); };
      else
        hook = nullptr;
    }
  }

  Trainer(M& model, Loss loss, ProgressBar& progress, Communicator* comm)
      : model_(model), loss_(loss), progress_(progress), comm_(comm ? comm : &single_) {
    grad_.resize(std::size_t(model.max_batch() * M::output_size));
  }

  M& model_;
  Loss loss_;
  ProgressBar& progress_;
  SingleProcessCommunicator single_;
  Communicator* comm_;
  BufferSync buffer_sync_ = BufferSync::per_replica;
  std::vector<T> grad_;
  long step_ = 0;
};

}  // namespace ctnet
