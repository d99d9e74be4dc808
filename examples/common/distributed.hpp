// examples/common/distributed.hpp — the example programs' distributed mode (data parallelism over MPI).
//
// Requires: one Distributed object in main(), made before anything else reads argv; the examples built with
// CTNET_EXAMPLES_MPI=1 (CMake sets it where ctnet::mpi exists) for a run under mpirun to be distributed.
// Guarantees: started by an MPI launcher (ctnet::launched_by_mpi) the program joins the job: comm() is the
// MPI communicator, and on every rank but 0 std::cout is silenced for the object's lifetime (progress, logs
// and the JSON line come from rank 0 only; errors still go to std::cerr). Started alone, comm() is the
// single-process communicator and nothing changes. Under a launcher without MPI support built in, the
// constructor throws a ctnet::Error saying so (N copies of one run would write the same files).
// finish(status) ends the whole job when a rank fails, so the other ranks never wait in a collective.
#pragma once

#include <iostream>
#include <optional>

#include <ctnet/core/error.hpp>
#include <ctnet/dist/communicator.hpp>
#if CTNET_EXAMPLES_MPI
#include <ctnet/dist/mpi_communicator.hpp>
#endif

namespace examples {

class Distributed {
 public:
  Distributed(int& argc, char**& argv) {
#if CTNET_EXAMPLES_MPI
    if (ctnet::launched_by_mpi()) {
      session_.emplace(argc, argv);
      mpi_.emplace();
    }
#else
    (void)argc;
    (void)argv;
    if (ctnet::launched_by_mpi())
      throw ctnet::Error("started by mpirun, but this program was built without MPI (install "
                               "libopenmpi-dev and openmpi-bin, then rebuild)");
#endif
    if (!comm().is_root()) saved_ = std::cout.rdbuf(nullptr);
  }
  ~Distributed() {
    if (saved_) {
      std::cout.rdbuf(saved_);
      std::cout.clear();
    }
  }
  Distributed(const Distributed&) = delete;
  Distributed& operator=(const Distributed&) = delete;

  ctnet::Communicator& comm() {
#if CTNET_EXAMPLES_MPI
    if (mpi_) return *mpi_;
#endif
    return single_;
  }
  bool root() { return comm().is_root(); }
  int ranks() { return comm().size(); }

  // The program's exit status; a failing rank of a job of several ends the job (MPI_Abort).
  int finish(int status) {
#if CTNET_EXAMPLES_MPI
    if (status != 0 && mpi_ && mpi_->size() > 1) MPI_Abort(MPI_COMM_WORLD, status);
#endif
    return status;
  }

 private:
#if CTNET_EXAMPLES_MPI
  std::optional<ctnet::MpiSession> session_;  // declared first: destroyed after the communicator
  std::optional<ctnet::MpiCommunicator> mpi_;
#endif
  ctnet::SingleProcessCommunicator single_;
  std::streambuf* saved_ = nullptr;
};

}  // namespace examples
