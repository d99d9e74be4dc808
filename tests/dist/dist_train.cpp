// Data-parallel training under MPI (run by ctest as `mpiexec -n N dist_train`, N = 1, 2, 3): the guarantees
// of dist/ and the Trainer, each checked, on 200 generated digits in global batches of 32 (200 = 6 x 32 + 8,
// so 3 ranks split 11/11/10 and the last batch 3/3/2):
//   1. replicas hold bit-identical parameters after every step (rank 0's broadcast and memcmp'd on each);
//   2. N ranks match one process on the same global batches: bit for bit with N = 1, within the stated
//      tolerance otherwise (float sums over a different grouping of the samples);
//   3. batch norm: rank 0's parameters and buffers at the start (ranks start from different seeds), per-replica
//      running statistics by default (they differ across ranks), identical ones with BufferSync::average and
//      sync_batch_norm, and with sync_batch_norm one process's steps for a network with batch norm;
//   4. a non-finite step on one rank stops all ranks; sharded evaluation sums the shards' figures;
//   5. dropout: N ranks draw the global batch's masks (units numbered by global row), so a network with every
//      kind of dropout (and synchronised batch norm) takes one process's steps within the same tolerance;
//   6. a training state saved by rank 0 after epoch 1 and loaded by every rank resumes to the bits of the
//      uninterrupted run (parameters on every rank, rank 0's buffers).
// Prints one line per check on rank 0; exit status 1 when any fails on any rank.
#include <ctnet/dist/mpi_communicator.hpp>
#include <ctnet/model.hpp>
#include <ctnet/backend/cpu/cpu.hpp>
#include <ctnet/ctnet.hpp>
#include <ctnet/train/loss.hpp>
#include <ctnet/train/optimizer.hpp>
#include <ctnet/train/trainer.hpp>
#include <ctnet/train/training_state.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "support/data.hpp"

using namespace ctnet;

namespace {

using Plain = Sequential<Input<1, 28, 28>, Conv2d<4, 3>, ReLU, MaxPool2d<4>, Flatten, Linear<10>, LogSoftmax>;
using Norm = Sequential<Input<1, 28, 28>, Conv2d<4, 3, NoBias>, BatchNorm2d, ReLU, MaxPool2d<4>, Flatten,
                        Linear<10>, LogSoftmax>;
// Every kind of dropout: the fused BatchNorm -> ReLU -> Dropout chain, Dropout2d and element Dropout.
using Dropped = Sequential<Input<1, 28, 28>, Conv2d<4, 3, NoBias>, BatchNorm2d, ReLU, Dropout<0.1f>, Conv2d<6, 3>, ReLU,
                           Dropout2d<0.2f>, MaxPool2d<4>, Flatten, Dropout<0.3f>, Linear<10>, LogSoftmax>;

constexpr int batch_size = 32;
// N ranks against one process, largest |difference| over the parameters after 2 epochs, relative to the
// largest |parameter| (the loss within 1e-6 relative). The steps differ only in the grouping of float sums
// (per-rank partial gradients, then ranks in order; the loss gradient's 1/B as (n/B)/n), ~1e-7 relative per
// step, which SGD carries on.
constexpr double equivalence_tolerance = 1e-5;  // measured: 1e-7 with 2 ranks, 5e-8 with 3

struct Checks {
  Communicator& comm;
  int failed = 0;
  void expect(bool ok, const std::string& what) {
    double bad = ok ? 0 : 1;
    comm.allreduce_sum_ordered(std::span<double>(&bad, 1));  // every rank agrees on the outcome
    if (bad != 0) ++failed;
    if (comm.is_root()) std::printf("%s %s%s\n", bad == 0 ? "ok  " : "FAIL", what.c_str(),
                                    bad == 0 ? "" : (" (on " + std::to_string(long(bad)) + " rank(s))").c_str());
    std::fflush(stdout);
  }
};

// True when `values` has rank 0's bits on this rank.
bool same_as_root(Communicator& comm, std::span<const float> values) {
  std::vector<float> root(values.begin(), values.end());
  comm.broadcast(std::span<float>(root), 0);
  return std::memcmp(root.data(), values.data(), values.size() * sizeof(float)) == 0;
}

LoaderOptions loader_options(const Communicator& comm) {
  LoaderOptions o;
  o.batch_size = batch_size;
  o.seed = 11;
  o.augment = RandomAffine(8.0f, 0.1f, 0.1f);
  o.shard_rank = comm.rank();
  o.shard_count = comm.size();
  return o;
}

template <class Net>
struct Run {
  Model<Net> model;
  SGD<float> optimizer{0.05, 0.9, 0, 1e-4};
  std::ostringstream quiet;
  ProgressBar progress{quiet, ProgressBar::Mode::off};
  Trainer<Model<Net>, NLLLoss> trainer;
  Run(std::uint64_t seed, Communicator& comm, BufferSync sync = BufferSync::per_replica)
      : model(seed, batch_size), trainer(model, NLLLoss{}, progress, comm, sync) {}
  EpochResult epoch(DataLoader& loader, int e) {
    const StepSchedule schedule{[](long, int) { return 0.05; }, {}};
    return trainer.train_epoch(loader, optimizer, schedule, e, "e");
  }
};

double relative_difference(const std::vector<float>& a, const std::vector<float>& b) {
  double diff = 0, scale = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, std::fabs(double(a[i]) - double(b[i])));
    scale = std::max(scale, std::fabs(double(b[i])));
  }
  return diff / scale;
}

void replicas_and_equivalence(Checks& c, const Dataset& data) {
  Communicator& comm = c.comm;
  DataLoader loader(data, loader_options(comm));
  Run<Plain> run(5 + std::uint64_t(comm.rank()), comm);  // other seeds on other ranks: the broadcast must fix them
  long steps = 0, mismatched = 0;
  run.trainer.after_step = [&](long) {
    ++steps;
    if (!same_as_root(comm, run.model.parameters())) ++mismatched;
  };
  const EpochResult first = run.epoch(loader, 1);
  const EpochResult second = run.epoch(loader, 2);
  c.expect(steps == 2 * loader.batches_per_epoch() && mismatched == 0,
           "parameters bit-identical on every rank after each of " + std::to_string(steps) + " steps (" +
               std::to_string(comm.size()) + " ranks)");
  c.expect(first.train.total == data.count && second.train.total == data.count,
           "each epoch's figures cover the global batches (" + std::to_string(first.train.total) + " samples)");

  // Sharded evaluation: the whole set's figures on every rank (no batch norm: replicas agree exactly).
  {
    LoaderOptions eval_options = loader_options(comm);
    eval_options.shuffle = false;
    eval_options.augment.reset();
    DataLoader shard(data, eval_options);
    eval_options.shard_rank = 0;
    eval_options.shard_count = 1;
    DataLoader whole(data, eval_options);
    const EvalResult a = evaluate(run.model, shard, NLLLoss{}, comm), b = evaluate(run.model, whole, NLLLoss{});
    // The loss within float rounding: each batch's mean comes back as a float (NLLLoss::forward's T).
    char text[160];
    std::snprintf(text, sizeof text, "sharded evaluation gives the whole set's figures (%ld/%ld, loss %.9g vs %.9g)",
                  a.correct, a.total, a.loss, b.loss);
    c.expect(a.total == b.total && a.correct == b.correct && std::fabs(a.loss - b.loss) <= 1e-6 * b.loss, text);
  }

  // One process, same global batches, same seed as rank 0.
  SingleProcessCommunicator single;
  LoaderOptions one = loader_options(single);
  DataLoader single_loader(data, one);
  Run<Plain> reference(5, single);
  reference.epoch(single_loader, 1);
  const EpochResult ref_second = reference.epoch(single_loader, 2);
  const std::vector<float> got = run.model.read_parameters(), want = reference.model.read_parameters();
  const double d = relative_difference(got, want);
  char text[200];
  if (comm.size() == 1) {
    c.expect(got == want && second.train.loss == ref_second.train.loss,
             "1 rank gives the single-process bits (parameters and epoch loss)");
  } else {
    std::snprintf(text, sizeof text,
                  "%d ranks match one process: max |diff| / max |param| = %.3g <= %.0e after 2 epochs", comm.size(),
                  d, equivalence_tolerance);
    c.expect(d <= equivalence_tolerance, text);
    std::snprintf(text, sizeof text, "epoch loss %.9g vs one process %.9g", second.train.loss,
                  ref_second.train.loss);
    c.expect(std::fabs(second.train.loss - ref_second.train.loss) <= 1e-6 * std::fabs(ref_second.train.loss), text);
  }
}

void batch_norm(Checks& c, const Dataset& data) {
  Communicator& comm = c.comm;
  for (const BufferSync sync : {BufferSync::per_replica, BufferSync::average, BufferSync::sync_batch_norm}) {
    const bool average = sync != BufferSync::per_replica;
    const std::string name = sync == BufferSync::average          ? "BufferSync::average"
                             : sync == BufferSync::sync_batch_norm ? "BufferSync::sync_batch_norm"
                                                                   : "BufferSync::per_replica";
    DataLoader loader(data, loader_options(comm));
    Run<Norm> run(9 + std::uint64_t(comm.rank()), comm, sync);
    c.expect(same_as_root(comm, run.model.parameters()) && same_as_root(comm, run.model.buffers()),
             name + ": rank 0's parameters and buffers everywhere at the start");
    long mismatched_params = 0, mismatched_buffers = 0;
    run.trainer.after_step = [&](long) {
      if (!same_as_root(comm, run.model.parameters())) ++mismatched_params;
      if (!same_as_root(comm, run.model.buffers())) ++mismatched_buffers;
    };
    run.epoch(loader, 1);
    c.expect(mismatched_params == 0, name + ": parameters bit-identical after every step");
    if (average) {
      c.expect(mismatched_buffers == 0, name + ": running statistics bit-identical after every step");
    } else if (comm.size() > 1) {
      // Each replica normalises its own rows: its running statistics are its own (rank 0's match itself).
      c.expect(comm.rank() == 0 || mismatched_buffers > 0, name + ": running statistics differ across replicas");
    }
  }
}

// The last rank's images are infinite (normalised by a std of 1e-45, whose inverse overflows): every rank
// must stop at step 1, that rank with the diagnosis, the others naming the step and the rank count.
void nonfinite(Checks& c, const Dataset& data) {
  Communicator& comm = c.comm;
  LoaderOptions o = loader_options(comm);
  const bool bad = comm.rank() == comm.size() - 1;
  if (bad) o.normalize.std = 1e-45f;
  DataLoader loader(data, o);
  Run<Plain> run(5, comm);
  std::string message;
  try {
    run.epoch(loader, 1);
  } catch (const NumericalError& e) {
    message = e.what();
  }
  const bool stopped = message.find("training diverged at training step 1 (epoch 1, batch 1") != std::string::npos;
  const bool names = bad ? message.find("other rank") == std::string::npos
                         : message.find("on 1 other rank(s) of " + std::to_string(comm.size())) != std::string::npos;
  if (!(stopped && names)) std::fprintf(stderr, "rank %d: '%s'\n", comm.rank(), message.c_str());
  c.expect(stopped && names && run.trainer.global_step() == 0,
           "a non-finite step on the last rank stops every rank at step 1, before the update");
}

// Two epochs of Net on the ranks with SyncBatchNorm against one process from the same seed.
struct AgainstOneProcess {
  double parameters = 0, buffers = 0;  // relative_difference of each
  bool identical = false;              // parameters and epoch loss, bit for bit
  EpochResult second, reference_second;
};

template <class Net>
AgainstOneProcess against_one_process(Communicator& comm, const Dataset& data, std::uint64_t seed) {
  DataLoader loader(data, loader_options(comm));
  Run<Net> run(seed, comm, BufferSync::sync_batch_norm);
  AgainstOneProcess r;
  run.epoch(loader, 1);
  r.second = run.epoch(loader, 2);
  SingleProcessCommunicator single;
  DataLoader single_loader(data, loader_options(single));
  Run<Net> reference(seed, single);
  reference.epoch(single_loader, 1);
  r.reference_second = reference.epoch(single_loader, 2);
  const std::vector<float> got = run.model.read_parameters(), want = reference.model.read_parameters();
  r.parameters = relative_difference(got, want);
  r.buffers = relative_difference(run.model.read_buffers(), reference.model.read_buffers());
  r.identical = got == want && r.second.train.loss == r.reference_second.train.loss;
  return r;
}

// SyncBatchNorm: a network with batch norm on N ranks takes one process's steps (up to summation order);
// a global batch with fewer rows than ranks is refused on every rank.
void sync_batch_norm(Checks& c, const Dataset& data) {
  Communicator& comm = c.comm;
  const AgainstOneProcess r = against_one_process<Norm>(comm, data, 9);
  const EpochResult &second = r.second, &ref_second = r.reference_second;
  const double dp = r.parameters, db = r.buffers;
  char text[220];
  std::snprintf(text, sizeof text,
                "sync_batch_norm: %d rank(s) match one process with batch norm: parameters %.3g, running "
                "statistics %.3g <= %.0e; epoch loss %.9g vs %.9g",
                comm.size(), dp, db, equivalence_tolerance, second.train.loss, ref_second.train.loss);
  c.expect(dp <= equivalence_tolerance && db <= equivalence_tolerance &&
               std::fabs(second.train.loss - ref_second.train.loss) <= 1e-6 * std::fabs(ref_second.train.loss),
           text);
  if (comm.size() > 1) {
    const Dataset few = testing::generated_digits(comm.size() - 1, 5);  // one global batch, a row short
    DataLoader short_loader(few, loader_options(comm));
    Run<Norm> short_run(9, comm, BufferSync::sync_batch_norm);
    std::string message;
    try {
      short_run.epoch(short_loader, 1);
    } catch (const OptionError& e) {
      message = e.what();
    }
    const std::string want = "ctnet: Trainer: BufferSync::sync_batch_norm: batch 1 of epoch 1 has " +
                             std::to_string(comm.size() - 1) + " rows for " + std::to_string(comm.size()) + " ranks";
    c.expect(message.rfind(want, 0) == 0, "sync_batch_norm: a global batch with fewer rows than ranks is refused");
  }
}

// Dropout keys its masks by the unit's row in the global batch: rank r's rows get the masks one process
// gives them, so the steps match one process's as closely as without dropout (rank 0's masks on every rank,
// as each rank numbering its own rows from 0 would give, are off by far more).
void dropout(Checks& c, const Dataset& data) {
  Communicator& comm = c.comm;
  const AgainstOneProcess r = against_one_process<Dropped>(comm, data, 13);
  const double loss = r.second.train.loss, reference = r.reference_second.train.loss;
  char text[220];
  std::snprintf(text, sizeof text,
                "dropout (fused chain, Dropout2d, Dropout): %d rank(s) match one process: parameters %.3g <= %.0e; "
                "epoch loss %.9g vs %.9g",
                comm.size(), r.parameters, equivalence_tolerance, loss, reference);
  const bool close = comm.size() == 1 ? r.identical
                                      : r.parameters <= equivalence_tolerance &&
                                            std::fabs(loss - reference) <= 1e-6 * std::fabs(reference);
  c.expect(close, text);
}

void resume(Checks& c, const Dataset& data) {
  Communicator& comm = c.comm;
  double pid = double(::getpid());  // rank 0's: one file per job
  comm.broadcast(std::span<double>(&pid, 1), 0);
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("ctnet_dist_state_" + std::to_string(long(pid)) + ".safetensors"))
                               .string();
  const RunIdentity id{"dist_train", {{"--epochs", "2"}}};
  std::vector<float> whole_params, whole_buffers;
  {
    DataLoader loader(data, loader_options(comm));
    Run<Norm> run(3, comm);
    run.epoch(loader, 1);
    // Rank 0 alone writes; the others wait until the file is complete.
    if (comm.is_root()) {
      TrainingRecord record{id, {1, run.trainer.global_step()}, {{"loss"}, {{0.0}}}, {}};
      save_training_state(path, run.model, run.optimizer, loader, record);
    }
    comm.barrier();
    run.epoch(loader, 2);
    whole_params = run.model.read_parameters();
    whole_buffers = run.model.read_buffers();
  }
  DataLoader loader(data, loader_options(comm));
  Run<Norm> run(3, comm);  // the same seed (the file's is checked), parameters and all else from the file
  const TrainingState s = load_training_state(path, run.model, run.optimizer, loader, id);
  run.trainer.set_global_step(s.counters.global_step);
  run.epoch(loader, 2);
  c.expect(run.model.read_parameters() == whole_params,
           "resumed from rank 0's state after epoch 1: the uninterrupted run's parameters on every rank");
  c.expect(comm.rank() != 0 || run.model.read_buffers() == whole_buffers,
           "resumed: rank 0's running statistics are the uninterrupted run's");
  comm.barrier();
  if (comm.is_root()) std::filesystem::remove(path);
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<MpiSession> session;
  try {
    session.emplace(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  int failed = 0;
  try {
    MpiCommunicator comm;
    Checks checks{comm};
    checks.expect(launched_by_mpi(), "launched_by_mpi() under mpiexec");
    const Dataset data = testing::generated_digits(200, 4);
    replicas_and_equivalence(checks, data);
    batch_norm(checks, data);
    nonfinite(checks, data);
    sync_batch_norm(checks, data);
    dropout(checks, data);
    resume(checks, data);
    failed = checks.failed;
    if (comm.is_root()) std::printf("%d check(s) failed on %d rank(s)\n", failed, comm.size());
  } catch (const std::exception& e) {
    // The other ranks may be waiting in a collective: end the whole job.
    std::fprintf(stderr, "error: %s\n", e.what());
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  return failed == 0 ? 0 : 1;
}
