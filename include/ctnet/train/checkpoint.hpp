// ctnet/train/checkpoint.hpp — save and load a Model as a safetensors file.
//
// Requires: a Model whose backend can copy to and from the host (all can). Guarantees: the file holds
// every named parameter and buffer under its PyTorch name ("0.weight", "1.running_mean") with its
// PyTorch shape, in F32 (float models) or F64 (double models), plus metadata: format "ctnet",
// the architecture (one line per layer: position, layer, output shape), its 64-bit fingerprint, the
// seed and the training step. Loading a ctnet checkpoint checks the fingerprint first and, when it
// differs, names the first layer that differs (and every tensor that does not fit); then every
// tensor's presence, dtype and shape, naming every mismatch in one error (state_dict.hpp). A file
// without format=ctnet metadata is a plain state_dict (PyTorch's, written by scripts/ctnet_torch.py or
// any safetensors writer): it loads by name and shape alone, strictly (no tensor missing, none left
// over but PyTorch's num_batches_tracked counters), and leaves the model's step as it was.
// Optimizer state, when given, is stored as "optimizer.<name>" tensors; training_state.hpp builds a
// whole resumable training state on save_checkpoint and restore_checkpoint. Save -> load gives
// identical predictions.
// Nothing non-finite is ever saved or loaded: a NaN or Inf in any tensor makes save_checkpoint throw
// NumericalError before writing anything, and load_checkpoint throw CheckpointError, each naming the
// tensor and the index of its first non-finite element.
#pragma once

#include <cstdint>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "../core/compiled.hpp"
#include "../core/error.hpp"
#include "../core/finite.hpp"
#include "../inspect/summary.hpp"
#include "../model.hpp"
#include "safetensors.hpp"
#include "state_dict.hpp"

namespace ctnet {

// The architecture as text: the input line, then one line per layer. Two networks with the same text
// have the same parameter layout.
template <class Net>
[[gnu::cold]] std::string architecture_text() {
  std::string text = "input " + Net::input_shape_t::str() + "\n";
  for (const SummaryRow& r : summary_rows<Net>())
    text += r.index + " " + r.layer + " -> " + r.output_shape + "\n";
  return text;
}

// FNV-1a, 64 bits, printed as 16 hex digits.
inline std::string fingerprint_of(const std::string& text) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  static const char* digits = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) out[std::size_t(i)] = digits[h & 15];
  return out;
}

namespace detail {

CTNET_COLD std::vector<std::string> split_lines(const std::string& text);

// "layer 4: the file has 'X', this network has 'Y'", or the difference in layer count.
CTNET_COLD std::string first_difference(const std::string& file_arch, const std::string& net_arch);

template <class T>
constexpr const char* dtype_name() {
  return sizeof(T) == 4 ? "F32" : "F64";
}

// Refuses to save a tensor holding NaN or Inf (the file would carry a diverged model on).
template <class T>
void refuse_nonfinite(const std::string& path, const std::string& name, const T* values, std::size_t count) {
  if (const long i = first_nonfinite(values, count); i >= 0)
    throw NumericalError("refusing to save '" + path + "': tensor '" + name + "' holds " + nonfinite_place(values, i) +
                         " of " + std::to_string(count) + " (the model has diverged); nothing was written");
}

// Refuses to load a file in which any F32/F64 tensor holds NaN or Inf.
CTNET_COLD void check_finite_tensors(const std::string& path, const SafetensorsFile& file);

}  // namespace detail

struct CheckpointExtras {
  std::map<std::string, std::string> metadata;             // saved under "user.<key>"
  std::vector<std::pair<std::string, const std::vector<float>*>> float_tensors;  // e.g. optimizer state
  // For training states (training_state.hpp): metadata under its own keys (train.*, optimizer.*, loader.*;
  // never a key save_checkpoint writes itself) and tensors of any dtype, saved as given after the model's.
  std::map<std::string, std::string> state_metadata = {};
  std::vector<TensorView> tensors = {};
};

template <class M>
[[gnu::cold]] void save_checkpoint(const M& model, const std::string& path, const CheckpointExtras& extras = {}) {
  using T = typename M::scalar;
  using Net = typename M::network;
  const std::vector<T> params = model.read_parameters(), buffers = model.read_buffers();
  std::vector<TensorView> views;
  const auto add = [&](const std::vector<NamedTensor>& named, const std::vector<T>& arena) {
    for (const NamedTensor& t : named) {
      detail::refuse_nonfinite(path, t.name, arena.data() + t.offset, std::size_t(t.size));
      std::vector<std::int64_t> shape(t.shape.begin(), t.shape.end());
      views.push_back(
          {t.name, detail::dtype_name<T>(), shape, arena.data() + t.offset, std::size_t(t.size) * sizeof(T)});
    }
  };
  add(M::named_parameters(), params);
  add(M::named_buffers(), buffers);
  for (const auto& [name, values] : extras.float_tensors) {
    detail::refuse_nonfinite(path, name, values->data(), values->size());
    views.push_back({name, "F32", {std::int64_t(values->size())}, values->data(), values->size() * sizeof(float)});
  }
  const std::string arch = architecture_text<Net>();
  std::map<std::string, std::string> meta{{"format", "ctnet"},
                                          {"ctnet_checkpoint_version", "1"},
                                          {"architecture", arch},
                                          {"fingerprint", fingerprint_of(arch)},
                                          {"parameter_count", std::to_string(Net::parameter_count)},
                                          {"seed", std::to_string(model.seed())},
                                          {"step", std::to_string(model.step())}};
  for (const auto& [k, v] : extras.metadata) meta["user." + k] = v;
  for (const auto& [k, v] : extras.state_metadata)
    if (!meta.emplace(k, v).second) throw Error("save_checkpoint: metadata key '" + k + "' is reserved");
  views.insert(views.end(), extras.tensors.begin(), extras.tensors.end());
  save_safetensors(path, views, meta);
}

// Loads parameters and buffers into `model` from a file already read from `path` (the name errors give):
// a ctnet checkpoint (format=ctnet) or a plain state_dict.
template <class M>
[[gnu::cold]] void restore_checkpoint(M& model, const SafetensorsFile& file, const std::string& path) {
  using Net = typename M::network;
  const auto meta = [&](const std::string& key) -> std::string {
    const auto it = file.metadata.find(key);
    return it == file.metadata.end() ? std::string() : it->second;
  };
  const bool ctnet_checkpoint = meta("format") == "ctnet";
  if (ctnet_checkpoint) {
    const std::string arch = architecture_text<Net>();
    if (meta("fingerprint") != fingerprint_of(arch)) {
      const StateDictMismatches m = state_dict_mismatches<M>(file, true);
      throw CheckpointError("'" + path + "' was saved from a different architecture: " +
                            detail::first_difference(meta("architecture"), arch) +
                            (m.empty() ? std::string() : "; by name and shape, " + m.text()));
    }
  }
  detail::check_finite_tensors(path, file);
  restore_state_dict(model, file, path, ctnet_checkpoint);
  if (!ctnet_checkpoint) return;
  const std::string step = meta("step");
  if (!step.empty()) {
    if (step.find_first_not_of("0123456789") != std::string::npos || step.size() > 19)
      throw CheckpointError("'" + path + "': metadata 'step' is not a step count: '" + step + "'");
    model.set_step(std::stoull(step));
  }
}

// Loads parameters and buffers into `model`; returns the whole file (metadata and any extra tensors).
template <class M>
[[gnu::cold]] SafetensorsFile load_checkpoint(M& model, const std::string& path) {
  SafetensorsFile file = load_safetensors(path);
  restore_checkpoint(model, file, path);
  return file;
}

}  // namespace ctnet

#if CTNET_COLD_BODIES
namespace ctnet {

namespace detail {

CTNET_COLD std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

CTNET_COLD std::string first_difference(const std::string& file_arch, const std::string& net_arch) {
  const auto a = split_lines(file_arch), b = split_lines(net_arch);
  for (std::size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    const std::string fa = i < a.size() ? a[i] : "(nothing: the file's network ends here)";
    const std::string fb = i < b.size() ? b[i] : "(nothing: this network ends here)";
    if (fa != fb) return "the file has '" + fa + "', this network has '" + fb + "'";
  }
  return "the layer lists are the same text but the fingerprints differ (edited file?)";
}

CTNET_COLD void check_finite_tensors(const std::string& path, const SafetensorsFile& file) {
  for (const TensorRecord& r : file.tensors) {
    double v = 0;
    if (const long i = first_nonfinite_bytes(r.dtype, r.bytes.data(), r.bytes.size(), v); i >= 0)
      throw CheckpointError("'" + path + "': tensor '" + r.name + "' holds " + value_name(v) + " at element " +
                            std::to_string(i) + " of " + std::to_string(r.numel()) +
                            "; a checkpoint must hold finite values (saved from a diverged run?)");
  }
}

}  // namespace detail

}  // namespace ctnet
#endif  // CTNET_COLD_BODIES
