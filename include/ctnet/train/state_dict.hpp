// ctnet/train/state_dict.hpp — a safetensors file's tensors matched to a Model by name and shape, as
// PyTorch's load_state_dict(strict=True) matches them, with every mismatch reported at once.
//
// Requires: M a Model; a file already read by load_safetensors. Guarantees: state_dict_mismatches lists
// every tensor the network has that the file lacks (in the network's order), every tensor of the file the
// network does not have (in file order), every shape that differs, and every dtype ctnet cannot read (it
// reads F32 and F64 into float and double models alike). PyTorch's BatchNorm counter
// "<layer>.num_batches_tracked" (I64, shape []) is accepted beside that layer's running statistics and
// ignored: ctnet's BatchNorm uses momentum 0.1, for which the counter changes nothing. With
// `allow_extras` (ctnet's own checkpoints, whose optimizer and training-state tensors sit beside the
// model's) a tensor the network lacks is a mismatch only when its name starts with a digit, as the names
// of a network's tensors do ("3.weight"). restore_state_dict writes the model's parameters
// and buffers only when nothing mismatches, and otherwise throws one CheckpointError naming every mismatch.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "../core/compiled.hpp"
#include "../core/error.hpp"
#include "../model.hpp"
#include "safetensors_format.hpp"

namespace ctnet {

struct StateDictMismatches {
  std::vector<std::string> missing;     // "0.weight [8, 1, 3, 3]"
  std::vector<std::string> unexpected;  // "extra.weight [3]"
  std::vector<std::string> shapes;      // "4.weight is [16, 8, 5, 5] in the file, [16, 8, 3, 3] in the network"
  std::vector<std::string> dtypes;      // "1.weight is I64"

  std::size_t count() const { return missing.size() + unexpected.size() + shapes.size() + dtypes.size(); }
  bool empty() const { return count() == 0; }

  // One line: "missing tensors: a [2], b [3]; unexpected tensors: c [4]; wrong shapes: ...; wrong dtypes: ...".
  std::string text() const;
};

namespace detail {

inline bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace detail

template <class M>
[[gnu::cold]] StateDictMismatches state_dict_mismatches(const SafetensorsFile& file, bool allow_extras = false) {
  StateDictMismatches out;
  std::set<std::string> known;
  const auto check = [&](const NamedTensor& t) {
    known.insert(t.name);
    const std::vector<std::int64_t> want(t.shape.begin(), t.shape.end());
    const TensorRecord* r = file.find(t.name);
    if (!r) {
      out.missing.push_back(t.name + " " + detail::shape_string(want));
      return;
    }
    if (r->shape != want)
      out.shapes.push_back(t.name + " is " + detail::shape_string(r->shape) + " in the file, " +
                           detail::shape_string(want) + " in the network");
    if (r->dtype != "F32" && r->dtype != "F64") out.dtypes.push_back(t.name + " is " + r->dtype);
  };
  for (const NamedTensor& t : M::named_parameters()) check(t);
  std::set<std::string> counters;  // PyTorch's num_batches_tracked, one per BatchNorm
  for (const NamedTensor& t : M::named_buffers()) {
    check(t);
    if (detail::ends_with(t.name, "running_mean"))
      counters.insert(t.name.substr(0, t.name.size() - std::string("running_mean").size()) + "num_batches_tracked");
  }
  for (const TensorRecord& r : file.tensors) {
    if (known.count(r.name)) continue;
    if (counters.count(r.name)) {
      if (r.dtype != "I64" || !r.shape.empty())
        out.shapes.push_back(r.name + " is " + r.dtype + " " + detail::shape_string(r.shape) +
                             " in the file; PyTorch's BatchNorm counter is I64 []");
      continue;
    }
    // A network's tensors are named from its layer positions ("3.weight"); ctnet's extras are not.
    const bool extra = allow_extras && (r.name.empty() || r.name[0] < '0' || r.name[0] > '9');
    if (!extra) out.unexpected.push_back(r.name + " " + detail::shape_string(r.shape));
  }
  return out;
}

namespace detail {

inline std::string exp_text(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", v);
  return text;
}

// F64 values beyond float's range would load as infinities into a float model: refused, by name.
template <class T>
std::vector<T> float_values(const TensorRecord& r, const std::string& path) {
  std::vector<T> out;
  out.reserve(std::size_t(r.numel()));
  if (r.dtype == "F32") {
    for (float v : r.as_f32()) out.push_back(T(v));
    return out;
  }
  for (double v : r.as_f64()) {
    out.push_back(T(v));
    if (!std::isfinite(out.back()))
      throw CheckpointError("'" + path + "': tensor '" + r.name + "' holds " + exp_text(v) + " at element " +
                            std::to_string(out.size() - 1) + ", beyond the range of this model's float");
  }
  return out;
}

}  // namespace detail

// Copies the file's tensors into `model` by name; `path` is the name the error gives.
template <class M>
[[gnu::cold]] void restore_state_dict(M& model, const SafetensorsFile& file, const std::string& path,
                                      bool allow_extras = false) {
  using T = typename M::scalar;
  const StateDictMismatches mismatches = state_dict_mismatches<M>(file, allow_extras);
  if (!mismatches.empty())
    throw CheckpointError("'" + path + "' does not fit this network by name and shape (" +
                          std::to_string(mismatches.count()) + (mismatches.count() == 1 ? " mismatch" : " mismatches") +
                          "): " + mismatches.text());
  std::vector<T> params(static_cast<std::size_t>(M::network::parameter_count));
  std::vector<T> buffers(static_cast<std::size_t>(M::network::buffer_count));
  const auto fill = [&](const std::vector<NamedTensor>& named, std::vector<T>& arena) {
    for (const NamedTensor& t : named) {
      const std::vector<T> values = detail::float_values<T>(*file.find(t.name), path);
      std::copy(values.begin(), values.end(), arena.begin() + t.offset);
    }
  };
  fill(M::named_parameters(), params);
  fill(M::named_buffers(), buffers);
  model.write_parameters(params);
  model.write_buffers(buffers);
}

}  // namespace ctnet

#if CTNET_COLD_BODIES
namespace ctnet {

CTNET_COLD std::string StateDictMismatches::text() const {
  std::string out;
  const auto part = [&](const char* title, const std::vector<std::string>& items, const char* tail) {
    if (items.empty()) return;
    out += (out.empty() ? "" : "; ") + std::string(title) + ": ";
    for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + items[i];
    out += tail;
  };
  part("missing tensors", missing, "");
  part("unexpected tensors", unexpected, "");
  part("wrong shapes", shapes, "");
  part("wrong dtypes", dtypes, " (ctnet reads F32 and F64)");
  return out;
}

}  // namespace ctnet
#endif  // CTNET_COLD_BODIES
