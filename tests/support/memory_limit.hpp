// tests/support/memory_limit.hpp — run a reader in a child process whose address space is capped, so a test
// proves that a hostile file cannot make it allocate what the file claims (the parent never risks the limit).
#pragma once

#include <doctest/doctest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <string>

namespace ctnet::testing {

struct ChildOutcome {
  int exit_code = -1;   // 0: the reader threw the expected error type; 3: it returned; 4: it threw something else
  int signal = 0;       // non-zero when the child died of a signal (std::terminate on bad_alloc is SIGABRT)
  std::string message;  // what() of the exception, as the child saw it
};

// Bytes of address space mapped now (/proc/self/statm), so the cap is "what the process has, plus headroom":
// that works the same in a plain build and under AddressSanitizer, which maps terabytes of shadow up front.
inline unsigned long long mapped_bytes() {
  std::ifstream statm("/proc/self/statm");
  unsigned long long pages = 0;
  statm >> pages;
  return pages * static_cast<unsigned long long>(::sysconf(_SC_PAGESIZE));
}

// Runs `read()` in a forked child limited to its current mapping plus `headroom` bytes (RLIMIT_AS). The child
// exits 0 when `read` throws `E`, and reports E's message through a pipe.
template <class E, class F>
ChildOutcome run_with_memory_limit(unsigned long long headroom, F read) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fds[0]);
    const rlimit limit{mapped_bytes() + headroom, mapped_bytes() + headroom};
    if (::setrlimit(RLIMIT_AS, &limit) != 0) ::_exit(5);
    int code = 3;
    std::string message;
    try {
      read();
    } catch (const E& e) {
      code = 0;
      message = e.what();
    } catch (const std::exception& e) {
      code = 4;
      message = e.what();
    }
    if (!message.empty() && ::write(fds[1], message.data(), message.size()) < 0) code = 6;
    ::_exit(code);
  }
  ::close(fds[1]);
  ChildOutcome out;
  char buf[512];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) out.message.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  if (WIFEXITED(status)) out.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) out.signal = WTERMSIG(status);
  return out;
}

}  // namespace ctnet::testing
