// ctnet/backend/cpu/adaptive_threads.hpp — the thread count each Model call runs with, chosen by timing.
//
// Requires: nothing (OpenMP is set by the caller, threads.hpp's ExecutionScope). Guarantees: for each kind
// of call and batch (ExecutionCall) it picks one of the counts max, max/2, ..., 1 (max: the calling thread's
// OpenMP thread count, Cpu::set_threads or OMP_NUM_THREADS) and keeps the one whose calls take least time,
// re-checking now and then; the results of every call are the same bits for any count (threads.hpp keeps
// Eigen's own GEMM threading off in every Model call, since its blocking would follow the count), so the
// choice changes speed only. On by default; set_enabled(false) runs every call with max threads. Starts
// at max. Holds no memory beyond its fixed table (no allocation after construction).
//
// Why: OpenMP teams wait at every barrier for their slowest thread. On a machine with other CPU-bound work,
// a descheduled thread holds the whole team for a time slice, and a step of a small network lasts a few
// time slices: 2 threads on 2 busy cores then train slower than 1. Fewer threads is the fix, and only timing
// tells when it applies.
//
// How: per call kind and batch, every `period` calls a probe of up to 2 * probe_pairs calls alternates the
// current count with a neighbour (one level fewer or more threads, in turn), so both see the same machine;
// it ends early when the neighbour is 3x slower or 2x faster. The neighbour is taken when its mean time is
// at least 5% lower; then the period restarts at min_period. Otherwise the period doubles up to max_period,
// and beyond so far that the probe's extra time is at most 1% of the period's (on 2 busy cores a 2-thread
// call can take 8x a 1-thread one): the probes cost about 1% of the calls' time, busy or idle. So a change
// in load is noticed within a few thousand calls (seconds for the MNIST networks).
#pragma once

#include <array>
#include <cstdint>

#include "../../core/execution_call.hpp"

namespace ctnet::cpu {

class AdaptiveThreads {
 public:
  static constexpr int probe_pairs = 8;
  static constexpr int first_period = 4;  // calls before a new entry's first probe (the first allocates)
  static constexpr int min_period = 16;
  static constexpr int max_period = 512;        // the doubling stops here ...
  static constexpr double probe_budget = 0.01;  // ... unless a probe's extra time exceeds 1% of the period's
  static constexpr int budget_period_cap = 16384;
  static constexpr double switch_gain = 0.95;  // the neighbour's mean must be below 95% of the current's

  void set_enabled(bool on) { enabled_ = on; }
  bool enabled() const { return enabled_; }

  // The thread count for `call` when the calling thread's OpenMP count is `max`; end() must follow with the
  // call's duration (or cancel() when it did not complete).
  int begin(const ExecutionCall& call, int max) {
    active_ = -1;
    if (!enabled_ || max <= 1) return max;
    const int index = entry(call, max);
    Entry& e = entries_[std::size_t(index)];
    if (e.probe_calls == 0 && ++e.since_probe >= e.period) start_probe(e, levels(max));
    if (e.probe_calls == 0) return threads_at(max, e.level);  // not timed: recording() is false
    active_ = index;
    active_side_ = (e.probe_calls - 1) % 2;  // a probe alternates: the current level, then the neighbour
    return threads_at(max, active_side_ == 0 ? e.level : e.probe_level);
  }

  // The duration of the call begin() chose for; only probe calls are recorded.
  void end(double seconds) {
    if (active_ < 0) return;
    Entry& e = entries_[std::size_t(active_)];
    active_ = -1;
    e.probe_sum[active_side_] += seconds;
    const int done = e.probe_calls++;  // probe calls done, this one included
    if (done % 2 != 0) return;         // a pair is complete after each neighbour call
    const int pairs = done / 2;
    const double current = e.probe_sum[0], neighbour = e.probe_sum[1];
    // A clear answer ends the probe early: a neighbour 3x slower (as 2 threads on 2 busy cores can be 8x)
    // costs a lot per call; one twice as fast should be taken now.
    const bool hopeless = neighbour > 3 * current, clear_gain = pairs >= 2 && neighbour < 0.5 * current;
    if (pairs < probe_pairs && !hopeless && !clear_gain) return;
    const bool better = !hopeless && neighbour < switch_gain * current;
    if (better) {
      e.level = e.probe_level;
      e.period = min_period;
    } else {
      // The probe's extra time, in calls at the current level, spread over at least 1 / probe_budget calls.
      const double extra_calls = current > 0 ? neighbour / (current / pairs) - pairs : 0;
      double period = e.period * 2.0 > max_period ? double(max_period) : e.period * 2.0;
      if (extra_calls / probe_budget > period) period = extra_calls / probe_budget;
      e.period = period > budget_period_cap ? budget_period_cap : int(period);
    }
    e.probe_calls = 0;
    e.since_probe = 0;
    last_level_[std::size_t(e.call.kind)] = e.level;
    last_max_[std::size_t(e.call.kind)] = e.max;
  }
  void cancel() { active_ = -1; }  // the call did not complete: its time says nothing
  // Whether the call begin() chose for is a probe call, the only kind end() records (so only those need
  // timing).
  bool recording() const { return active_ >= 0; }

  // The count calls like `call` run with now (max when none has run yet or adaptation is off).
  int threads_for(const ExecutionCall& call, int max) const {
    if (!enabled_ || max <= 1) return max;
    for (const Entry& e : entries_)
      if (e.holds(call, max)) return threads_at(max, e.level);
    return max;
  }

 private:
  struct Entry {
    ExecutionCall call{ExecutionCall::Kind::forward, 0};
    int max = 0;
    int level = 0;  // threads_at(max, level) threads
    int period = first_period;
    int since_probe = 0;
    int probe_calls = 0;  // 0: not probing; k > 0: k - 1 probe calls done
    int probe_level = 0;
    bool probe_fewer_next = true;
    double probe_sum[2] = {0, 0};
    std::uint64_t used = 0;  // when last used (0: free)

    bool holds(const ExecutionCall& c, int m) const {
      return used != 0 && max == m && call.kind == c.kind && call.batch == c.batch;
    }
  };

  // Level k runs ceil(max / 2^k) threads; the last level runs 1.
  static int threads_at(int max, int level) { return (max + (1 << level) - 1) >> level; }
  static int levels(int max) {
    int n = 1;
    while (threads_at(max, n - 1) > 1) ++n;
    return n;
  }

  static void start_probe(Entry& e, int level_count) {
    const bool can_fewer = e.level + 1 < level_count, can_more = e.level > 0;
    const bool fewer = can_fewer && (e.probe_fewer_next || !can_more);
    e.probe_fewer_next = !fewer;
    e.probe_level = fewer ? e.level + 1 : e.level - 1;
    e.probe_sum[0] = e.probe_sum[1] = 0;
    e.probe_calls = 1;
  }

  // The entry for this kind and batch; a new one starts where the last decision for its kind and max stands
  // (a partial last batch is like the full ones), replacing the least recently used entry when all are taken.
  int entry(const ExecutionCall& call, int max) {
    ++clock_;
    std::size_t oldest = 0;
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      if (entries_[i].holds(call, max)) {
        entries_[i].used = clock_;
        return int(i);
      }
      if (entries_[i].used < entries_[oldest].used) oldest = i;
    }
    Entry& e = entries_[oldest] = Entry{};
    e.call = call;
    e.max = max;
    if (last_max_[std::size_t(call.kind)] == max) e.level = last_level_[std::size_t(call.kind)];
    e.used = clock_;
    return int(oldest);
  }

  std::array<Entry, 8> entries_{};
  std::array<int, 3> last_level_{0, 0, 0};  // per ExecutionCall::Kind: the last decision, and for which max
  std::array<int, 3> last_max_{0, 0, 0};
  std::uint64_t clock_ = 0;
  int active_ = -1;  // the entry of the probe call under way, -1: none
  int active_side_ = 0;
  bool enabled_ = true;
};

}  // namespace ctnet::cpu
