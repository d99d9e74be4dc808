// ctnet_allreduce_bench — the time of one gradient sum across the ranks against the gradient's size, as
// JSON lines from rank 0: ctnet's MpiCommunicator::allreduce_sum_ordered (an MPI_Allgather and a local sum
// in rank order, the same bits on every rank) beside a plain MPI_Allreduce (which does not promise that).
//
// Usage: mpirun -n N build/examples/ctnet_allreduce_bench [--floats "256 1024 ..."] [--calls K]
// Each size: 20 untimed calls, then K timed ones (default 300) between barriers; the median of 5 such runs.
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include <ctnet/dist/mpi_communicator.hpp>

namespace {

template <class Call>
double median_us_per_call(Call&& call, int calls) {
  for (int i = 0; i < 20; ++i) call();
  std::vector<double> runs;
  for (int r = 0; r < 5; ++r) {
    MPI_Barrier(MPI_COMM_WORLD);
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < calls; ++i) call();
    const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
    double slowest = us;  // the slowest rank's time is the step's
    MPI_Allreduce(&us, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    runs.push_back(slowest / calls);
  }
  std::sort(runs.begin(), runs.end());
  return runs[runs.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  ctnet::MpiSession session(argc, argv);
  std::vector<long> sizes = {256, 1024, 4096, 10240, 40960, 163840, 655360};
  int calls = 300;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--floats" && i + 1 < argc) {
      sizes.clear();
      std::istringstream in(argv[++i]);
      for (long n; in >> n;)
        if (n > 0) sizes.push_back(n);
    } else if (arg == "--calls" && i + 1 < argc) {
      calls = std::max(1, std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr, "error: ctnet_allreduce_bench: unknown option '%s' (--floats \"N ...\", --calls K)\n",
                   arg.c_str());
      return 2;
    }
  }
  ctnet::MpiCommunicator comm;
  for (const long n : sizes) {
    const auto count = static_cast<std::size_t>(n);
    std::vector<float> data(count, 1.0f), out(count);
    const double ordered = median_us_per_call([&] { comm.allreduce_sum_ordered(std::span<float>(data)); }, calls);
    const double plain = median_us_per_call(
        [&] { MPI_Allreduce(data.data(), out.data(), int(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD); }, calls);
    if (comm.is_root())
      std::printf("{\"bench\":\"allreduce\",\"ranks\":%d,\"floats\":%ld,\"bytes\":%ld,\"ordered_us\":%.1f,"
                  "\"mpi_allreduce_us\":%.1f}\n",
                  comm.size(), n, n * long(sizeof(float)), ordered, plain);
  }
  return 0;
}
