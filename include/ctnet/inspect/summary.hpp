// ctnet/inspect/summary.hpp — summary<Net>(): a torchsummary-like table computed from the type alone.
//
// Requires: Net a bound network. Guarantees: no forward pass and no allocation of the network's state;
// rows give position, layer (PyTorch-style repr), output shape, parameters, multiply-adds per sample
// (convolutions and linear layers, as torchsummary-style tools count them) and receptive field
// (in input pixels); totals give parameters, MACs and activation floats per sample.
#pragma once

#include <cstdio>
#include <ostream>
#include <string>
#include <vector>

#include "../graph/visit.hpp"

namespace ctnet {

namespace detail {
inline std::string with_commas(long v) {
  const std::string digits = std::to_string(v < 0 ? -v : v);
  std::string s;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) s.push_back(',');
    s.push_back(digits[i]);
  }
  return v < 0 ? "-" + s : s;
}
inline std::string pad_right(const std::string& s, std::size_t w) {
  return s.size() >= w ? s : s + std::string(w - s.size(), ' ');
}
inline std::string pad_left(const std::string& s, std::size_t w) {
  return s.size() >= w ? s : std::string(w - s.size(), ' ') + s;
}
}  // namespace detail

// One row per layer, nested layers (inside PerInput, Parallel, Residual) under their parent.
template <class Net>
[[gnu::cold]] std::vector<SummaryRow> summary_rows() {
  std::vector<SummaryRow> rows;
  Net::for_each_layer([&]<std::size_t I, class L>() {
    append_summary_rows<L>(std::to_string(I), 0, Net::receptive_fields[I], rows);
  });
  return rows;
}

template <class Net>
[[gnu::cold]] void summary(std::ostream& os) {
  using detail::pad_left;
  using detail::pad_right;
  using detail::with_commas;
  const auto rows = summary_rows<Net>();
  std::size_t layer_w = 5;
  for (const auto& r : rows) layer_w = std::max(layer_w, r.layer.size());
  std::size_t index_w = 4, shape_w = 12;
  for (const auto& r : rows) {
    index_w = std::max(index_w, r.index.size());
    shape_w = std::max(shape_w, r.output_shape.size());
  }
  const std::string rule(index_w + 2 + layer_w + 2 + shape_w + 2 + 10 + 2 + 12 + 2 + 4, '-');
  os << rule << '\n'
     << pad_right("#", index_w) << "  " << pad_right("Layer", layer_w) << "  " << pad_right("Output", shape_w) << "  "
     << pad_left("Params", 10) << "  " << pad_left("MACs", 12) << "  " << pad_left("RF", 4) << '\n'
     << rule << '\n'
     << pad_right("-", index_w) << "  " << pad_right("Input", layer_w) << "  "
     << pad_right(Net::input_shape_t::str(), shape_w)
     << "  " << pad_left("0", 10) << "  " << pad_left("0", 12) << "  " << pad_left("1", 4) << '\n';
  for (const auto& r : rows)
    os << pad_right(r.index, index_w) << "  " << pad_right(r.layer, layer_w) << "  "
       << pad_right(r.output_shape, shape_w) << "  " << pad_left(with_commas(r.parameters), 10) << "  "
       << pad_left(with_commas(r.macs), 12) << "  "
       << pad_left(r.receptive_field > 0 ? std::to_string(r.receptive_field) : "-", 4) << '\n';
  os << rule << '\n'
     << "Total parameters: " << with_commas(Net::parameter_count) << '\n'
     << "Total MACs per sample: " << with_commas(Net::macs) << '\n'
     << "Activation floats per sample: " << with_commas(Net::activation_floats_per_sample) << " ("
     << with_commas(Net::activation_floats_per_sample * 4 / 1024) << " KiB)\n"
     << rule << '\n';
}

}  // namespace ctnet
