// examples/common/competing_load.hpp — CompetingLoad(n): n CPU-bound processes that run while the object
// lives, for benchmarks that measure ctnet on a busy machine the same way every time.
//
// Each child is a busy loop (what a shell `while :; do :; done` is) forked from the benchmark; the destructor
// kills and reaps them, and a child whose parent dies is killed by the kernel (PR_SET_PDEATHSIG), so none
// outlives the benchmark. Linux only. Throws ctnet::Error when a process cannot be started.
#pragma once

#include <csignal>
#include <string>
#include <vector>

#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ctnet/core/error.hpp>

namespace examples {

class CompetingLoad {
 public:
  explicit CompetingLoad(int processes) {
    const pid_t parent = getpid();
    for (int i = 0; i < processes; ++i) {
      const pid_t pid = fork();
      if (pid < 0) {
        stop();
        throw ctnet::Error("--compete: cannot start a competing process (fork failed)");
      }
      if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(0);  // the parent died before prctl took effect
        volatile unsigned long spin = 0;
        for (;;) spin = spin + 1;
      }
      children_.push_back(pid);
    }
  }
  CompetingLoad(const CompetingLoad&) = delete;
  CompetingLoad& operator=(const CompetingLoad&) = delete;
  ~CompetingLoad() { stop(); }

  int processes() const { return int(children_.size()); }

  void stop() {
    for (pid_t pid : children_) kill(pid, SIGKILL);
    for (pid_t pid : children_) waitpid(pid, nullptr, 0);
    children_.clear();
  }

 private:
  std::vector<pid_t> children_;
};

}  // namespace examples
