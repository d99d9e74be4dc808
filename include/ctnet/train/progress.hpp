// ctnet/train/progress.hpp — a training progress display: a live bar on a terminal, plain lines elsewhere.
//
// Requires: nothing. Guarantees: on a terminal, one line redrawn at most ten times a second with batch
// i/n, loss, running accuracy, images per second and ETA; when the stream is not a terminal (a log
// file, CI), a plain line at each quarter of the epoch, so logs stay short and readable.
#pragma once

#include <chrono>
#include <cstdio>
#include <ostream>
#include <sstream>
#include <string>

#include "../core/compiled.hpp"

#if __has_include(<unistd.h>)
#include <unistd.h>
#endif

namespace ctnet {

inline bool stdout_is_terminal() {
#if __has_include(<unistd.h>)
  return ::isatty(STDOUT_FILENO) == 1;
#else
  return false;
#endif
}

inline std::string format_duration(double seconds) {
  if (seconds < 0 || seconds != seconds) seconds = 0;
  const long s = long(seconds + 0.5);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  return buf;
}

class ProgressBar {
 public:
  enum class Mode { bar, lines, off };

  ProgressBar(std::ostream& out, Mode mode) : out_(out), mode_(mode) {}

  void start(const std::string& label, long total_batches) {
    label_ = label;
    total_ = total_batches;
    next_quarter_ = 1;
    start_ = last_draw_ = Clock::now();
  }

  // Called after each batch: `done` batches finished, `images` seen so far in the epoch.
  void update(long done, long images, double mean_loss, double accuracy) {
    if (mode_ == Mode::off) return;
    const auto now = Clock::now();
    const double elapsed = seconds(start_, now);
    if (mode_ == Mode::bar) {
      if (done < total_ && seconds(last_draw_, now) < 0.1) return;
      last_draw_ = now;
      out_ << '\r' << line(done, images, mean_loss, accuracy, elapsed, true) << "\x1b[K" << std::flush;
      if (done == total_) out_ << '\n';
    } else if (done * 4 >= next_quarter_ * total_) {
      while (done * 4 >= next_quarter_ * total_ && next_quarter_ <= 4) ++next_quarter_;
      out_ << line(done, images, mean_loss, accuracy, elapsed, false) << '\n' << std::flush;
    }
  }

 private:
  using Clock = std::chrono::steady_clock;
  static double seconds(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
  }

  std::string line(long done, long images, double loss, double accuracy, double elapsed, bool bar) const;

  std::ostream& out_;
  Mode mode_;
  std::string label_;
  long total_ = 0;
  long next_quarter_ = 1;
  Clock::time_point start_, last_draw_;
};

}  // namespace ctnet

#if CTNET_COLD_BODIES
namespace ctnet {

CTNET_COLD std::string ProgressBar::line(long done, long images, double loss, double accuracy, double elapsed,
                                         bool bar) const {
  std::ostringstream s;
  s << label_ << ' ';
  if (bar) {
    constexpr int width = 24;
    const int filled = total_ > 0 ? int(width * done / total_) : width;
    s << '[' << std::string(std::size_t(filled), '=') << (filled < width ? ">" : "")
      << std::string(std::size_t(width - filled - (filled < width ? 1 : 0)), ' ') << "] ";
  }
  const double rate = elapsed > 0 ? double(images) / elapsed : 0;
  const double eta = done > 0 ? elapsed * double(total_ - done) / double(done) : 0;
  char buf[160];
  std::snprintf(buf, sizeof buf, "%ld/%ld loss %.4f acc %.2f%% %.0f img/s ETA %s", done, total_, loss,
                100 * accuracy, rate, format_duration(eta).c_str());
  s << buf;
  return s.str();
}

}  // namespace ctnet
#endif  // CTNET_COLD_BODIES
