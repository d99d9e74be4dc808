// ctnet/dist/communicator.hpp — what data-parallel training needs from a group of processes, and the
// single-process group.
//
// Requires: every rank of a group calls the same collectives in the same order with the same sizes (as MPI
// requires); the spans are memory the communicator serves (host memory for SingleProcess and MPI; a
// device communicator such as NCCL would serve device memory: the trainer passes backend memory).
// Guarantees: allreduce_sum_ordered leaves on every rank the same bits, the sum taken in rank order
// (((r0 + r1) + r2) + ...) element by element, so the result depends neither on the transport's reduction
// algorithm nor on the rank that computes it — what keeps replicas bit-identical. broadcast copies the
// root's values to every rank. batch_share says which contiguous rows of a global batch a rank trains on.
// SingleProcessCommunicator is the group of one: every collective leaves the data as it is. launched_by_mpi
// says whether an MPI launcher started this process (it needs no MPI library).
#pragma once

#include <cstdlib>
#include <span>
#include <string>

#include "../core/error.hpp"

namespace ctnet {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual void allreduce_sum_ordered(std::span<float> data) = 0;
  virtual void allreduce_sum_ordered(std::span<double> data) = 0;
  virtual void broadcast(std::span<float> data, int root) = 0;
  virtual void broadcast(std::span<double> data, int root) = 0;
  virtual void barrier() = 0;
  bool is_root() const { return rank() == 0; }
};

class SingleProcessCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void allreduce_sum_ordered(std::span<float>) override {}
  void allreduce_sum_ordered(std::span<double>) override {}
  void broadcast(std::span<float>, int) override {}
  void broadcast(std::span<double>, int) override {}
  void barrier() override {}
};

// Rows [first, first + count) of a global batch of `global` rows for `rank` of `ranks`: contiguous shares
// in rank order, the first global % ranks ranks taking one row more (7 rows on 3 ranks: 3, 2, 2). A rank's
// share may be empty (fewer rows than ranks, e.g. a short last batch).
struct BatchShare {
  int first = 0;
  int count = 0;
};

inline BatchShare batch_share(int global, int rank, int ranks) {
  if (ranks < 1 || rank < 0 || rank >= ranks || global < 0)
    throw OptionError("batch_share: rank " + std::to_string(rank) + " of " + std::to_string(ranks) + ", " +
                      std::to_string(global) + " rows");
  const int base = global / ranks, extra = global % ranks;
  return {rank * base + (rank < extra ? rank : extra), base + (rank < extra ? 1 : 0)};
}

// True when a launcher (mpirun/mpiexec of Open MPI, MPICH, or a PMI/PMIx one such as srun) started this
// process: programs that also run alone start MPI only then, so a plain start needs no MPI runtime.
inline bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
    if (std::getenv(v)) return true;
  return false;
}

}  // namespace ctnet
