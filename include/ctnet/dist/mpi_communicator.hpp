// ctnet/dist/mpi_communicator.hpp — the Communicator over MPI (Open MPI on Debian), in target ctnet::mpi.
//
// Requires: an MPI library (link ctnet::mpi, which CMake defines where find_package(MPI) finds one); one
// MpiSession alive in main() for as long as any MpiCommunicator; ranks use the collectives in the same
// order. Guarantees: MpiSession initialises MPI (MPI_THREAD_FUNNELED: only the thread that made it calls
// MPI; the loader's and OpenMP's threads never do) and finalises it; MpiCommunicator works on its own
// duplicate of MPI_COMM_WORLD, so its traffic never meets a library's. allreduce_sum_ordered is an
// MPI_Allgather of every rank's values followed by a local sum in rank order: every rank adds the same
// bytes in the same order, so every rank gets the same bits by construction. MPI_Allreduce promises no
// such thing for floats (Open MPI picks its algorithm by message size and rank count, and some reduce in
// a different order on different ranks); the price, size x the data in memory and traffic, is small for
// gradients of tens to hundreds of kilobytes. Every MPI error becomes a ctnet::Error naming the call.
#pragma once

#include <mpi.h>

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "communicator.hpp"

namespace ctnet {

namespace mpi_detail {

inline void check(int code, const char* call) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw Error(std::string(call) + " failed: " + std::string(text, std::size_t(length)));
}

template <class T>
MPI_Datatype datatype();
template <>
inline MPI_Datatype datatype<float>() {
  return MPI_FLOAT;
}
template <>
inline MPI_Datatype datatype<double>() {
  return MPI_DOUBLE;
}

}  // namespace mpi_detail

class MpiSession {
 public:
  MpiSession(int& argc, char**& argv) {
    int provided = 0;
    mpi_detail::check(MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    if (provided < MPI_THREAD_FUNNELED) {
      MPI_Finalize();
      throw Error("MPI_Init_thread: the MPI library does not support MPI_THREAD_FUNNELED");
    }
  }
  ~MpiSession() { MPI_Finalize(); }
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;
};

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator() {
    mpi_detail::check(MPI_Comm_dup(MPI_COMM_WORLD, &comm_), "MPI_Comm_dup");
    // Errors come back as codes (then exceptions) instead of aborting the job.
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
  }
  ~MpiCommunicator() override { MPI_Comm_free(&comm_); }
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void allreduce_sum_ordered(std::span<float> data) override { ordered_sum(data, gathered_f_); }
  void allreduce_sum_ordered(std::span<double> data) override { ordered_sum(data, gathered_d_); }
  void broadcast(std::span<float> data, int root) override { bcast(data, root); }
  void broadcast(std::span<double> data, int root) override { bcast(data, root); }
  void barrier() override { mpi_detail::check(MPI_Barrier(comm_), "MPI_Barrier"); }

 private:
  template <class T>
  void ordered_sum(std::span<T> data, std::vector<T>& gathered) {
    if (size_ == 1 || data.empty()) return;
    const std::size_t n = data.size();
    if (n > std::size_t(1) << 30) throw Error("MpiCommunicator: " + std::to_string(n) + " values in one reduction");
    gathered.resize(n * std::size_t(size_));  // grows once: the arenas' sizes are fixed
    mpi_detail::check(MPI_Allgather(data.data(), int(n), mpi_detail::datatype<T>(), gathered.data(), int(n),
                                    mpi_detail::datatype<T>(), comm_),
                      "MPI_Allgather");
    const T* g = gathered.data();
    for (std::size_t i = 0; i < n; ++i) data[i] = g[i];
    for (int r = 1; r < size_; ++r) {
      const T* part = g + std::size_t(r) * n;
      for (std::size_t i = 0; i < n; ++i) data[i] += part[i];
    }
  }

  template <class T>
  void bcast(std::span<T> data, int root) {
    if (root < 0 || root >= size_) throw OptionError("MpiCommunicator::broadcast: no rank " + std::to_string(root));
    if (data.size() > std::size_t(1) << 30) throw Error("MpiCommunicator: broadcast too large");
    mpi_detail::check(MPI_Bcast(data.data(), int(data.size()), mpi_detail::datatype<T>(), root, comm_), "MPI_Bcast");
  }

  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0;
  int size_ = 1;
  std::vector<float> gathered_f_;
  std::vector<double> gathered_d_;
};

}  // namespace ctnet
