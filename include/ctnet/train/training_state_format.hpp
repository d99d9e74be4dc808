// ctnet/train/training_state_format.hpp — what a training state file holds apart from the network: its format
// and version, the run's counters, history and identity, and the metadata helpers that write and check them.
//
// Requires: nothing beyond the data loader. Guarantees: exact_text writes the shortest decimal text that reads
// back as the same number; dataset_fingerprint is a pure function of a data set's shape, pixels and labels;
// detail::loader_settings lists, in a fixed order, every loader setting that decides a run's batches;
// detail::StateReader reads a training state's metadata, refusing (CheckpointError naming the path) a key that
// is missing or not a number. training_state.hpp saves and loads whole states with these.
#pragma once

#include <charconv>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/compiled.hpp"
#include "../core/error.hpp"
#include "../data/loader.hpp"
#include "safetensors_format.hpp"

namespace ctnet {

inline constexpr const char* training_state_format = "ctnet-training-state";
inline constexpr const char* training_state_version = "1";
// A run's options are kept as metadata under this prefix, one key per option name.
inline constexpr std::string_view training_state_option_prefix = "train.option.";

// Taken between epochs: `epoch` epochs are complete and the optimizer has taken `global_step` steps.
struct TrainingCounters {
  long epoch = 0;
  long global_step = 0;
};

// Per-epoch figures a resumed run needs to report on the whole run (never timings: they would make the file
// depend on the clock).
struct TrainingHistory {
  std::vector<std::string> columns;       // names without commas
  std::vector<std::vector<double>> rows;  // one per completed epoch, columns.size() values each
};

// What makes a resumed run the same run: the program and the options that decide its numbers, in order.
struct RunIdentity {
  std::string program;
  std::vector<std::pair<std::string, std::string>> options;  // {"--epochs", "4"}, ...
};

struct TrainingRecord {
  RunIdentity run;
  TrainingCounters counters;
  TrainingHistory history;
  std::map<std::string, std::string> user_metadata;  // saved as "user.<key>", as save_checkpoint does
};

struct TrainingState {
  TrainingCounters counters;
  TrainingHistory history;
  std::map<std::string, std::string> metadata;  // everything the file's header holds
};

// The shortest decimal text that reads back as the same number.
inline std::string exact_text(double v) {
  char text[64];
  return std::string(text, std::to_chars(text, text + sizeof text, v).ptr);
}
inline std::string exact_text(float v) {
  char text[64];
  return std::string(text, std::to_chars(text, text + sizeof text, v).ptr);
}

// 64 bits of a data set's shape, pixels and labels, as 16 hex digits: catches changed data, not an adversary.
CTNET_COLD std::string dataset_fingerprint(const Dataset& d);

namespace detail {

// What decides a loader's epochs; the data set's keys come last (a mismatch there is a DataError).
CTNET_COLD std::vector<std::pair<std::string, std::string>> loader_settings(const DataLoader& loader);

class StateReader {
 public:
  StateReader(const SafetensorsFile& file, const std::string& path) : file_(file), path_(path) {}

  const std::string* find(const std::string& key) const {
    const auto it = file_.metadata.find(key);
    return it == file_.metadata.end() ? nullptr : &it->second;
  }
  const std::string& need(const std::string& key) const {
    if (const std::string* v = find(key)) return *v;
    fail("has no metadata '" + key + "' (saved by another version of ctnet?)");
  }
  long count(const std::string& key) const {
    const std::string& text = need(key);
    long v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v < 0)
      fail("metadata '" + key + "' is not a count: '" + text + "'");
    return v;
  }
  double number(const std::string& key) const {
    const std::string& text = need(key);
    double v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size())
      fail("metadata '" + key + "' is not a number: '" + text + "'");
    return v;
  }
  [[noreturn]] void fail(const std::string& what) const { throw CheckpointError("'" + path_ + "' " + what); }
  std::string differs(const std::string& what, const std::string& saved, const std::string& now,
                      const char* here) const {
    return what + ": the run saved in '" + path_ + "' has " + saved + ", " + here + " has " + now +
           " (a resumed run must keep the settings it was started with)";
  }

 private:
  const SafetensorsFile& file_;
  const std::string& path_;
};

CTNET_COLD std::vector<std::string> split_columns(const std::string& text);

}  // namespace detail

}  // namespace ctnet

#if CTNET_COLD_BODIES
#include <cstdint>
#include <cstring>

namespace ctnet {

CTNET_COLD std::string dataset_fingerprint(const Dataset& d) {
  std::uint64_t h = 0x9E3779B97F4A7C15ull;
  const auto mix = [&h](std::uint64_t w) {
    h = (h ^ w) * 0xFF51AFD7ED558CCDull;
    h ^= h >> 32;
  };
  const auto bytes = [&mix](const std::vector<std::uint8_t>& v) {
    std::size_t i = 0;
    for (; i + 8 <= v.size(); i += 8) {
      std::uint64_t w;
      std::memcpy(&w, v.data() + i, 8);
      mix(w);
    }
    std::uint64_t tail = 0;
    for (std::size_t k = 0; i + k < v.size(); ++k) tail |= std::uint64_t(v[i + k]) << (8 * k);
    mix(tail);
    mix(v.size());
  };
  mix((std::uint64_t(std::uint32_t(d.count)) << 32) ^ (std::uint64_t(std::uint32_t(d.rows)) << 16) ^
      std::uint64_t(std::uint32_t(d.cols)));
  bytes(d.images);
  bytes(d.labels);
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) out[std::size_t(i)] = digits[h & 15];
  return out;
}

namespace detail {

CTNET_COLD std::vector<std::pair<std::string, std::string>> loader_settings(const DataLoader& loader) {
  const LoaderOptions& o = loader.options();
  const Dataset& d = loader.dataset();
  std::string augment = "none";
  if (o.augment) {
    const RandomAffine& a = *o.augment;
    augment = "degrees " + exact_text(a.degrees) + ", translate " + exact_text(a.translate_x) + " " +
              exact_text(a.translate_y) + ", scale " + exact_text(a.scale_min) + " " + exact_text(a.scale_max) +
              ", shear " + exact_text(a.shear);
  }
  return {{"loader.seed", std::to_string(o.seed)},
          {"loader.batch_size", std::to_string(o.batch_size)},
          {"loader.shuffle", o.shuffle ? "true" : "false"},
          {"loader.drop_last", o.drop_last ? "true" : "false"},
          {"loader.augment", augment},
          {"loader.normalize", "mean " + exact_text(o.normalize.mean) + ", std " + exact_text(o.normalize.std)},
          {"loader.samples", std::to_string(d.count)},
          {"loader.image", std::to_string(d.rows) + "x" + std::to_string(d.cols)},
          {"loader.data_fingerprint", dataset_fingerprint(d)}};
}

CTNET_COLD std::vector<std::string> split_columns(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size() && !text.empty()) {
    const std::size_t comma = text.find(',', start);
    out.push_back(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace detail

}  // namespace ctnet
#endif  // CTNET_COLD_BODIES
