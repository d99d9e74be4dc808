// ctnet/graph/visit.hpp — walk a bound network and every layer nested inside it.
//
// Requires: bound layers; composites (Sequential, PerInput, Parallel, Residual) expose is_composite,
// for_each_child, child_name and child offsets. Guarantees: tensors are named as PyTorch names a module
// tree ("3.0.1.weight": layer 3, its branch 0, that branch's layer 1), with offsets into the arenas;
// summary rows list nested layers under their parent, indented, with dotted indices.
#pragma once

#include <string>
#include <vector>

#include "../core/layer.hpp"

namespace ctnet {

template <class L>
concept CompositeLayer = requires { L::is_composite; };

// A parameter or buffer inside a layer: its dotted name, its layout, its offset in the arena.
struct VisitedTensor {
  std::string name;
  const TensorInfo* info;
  long offset;
  bool is_parameter;
};

// Appends every parameter and buffer inside L, in the order PyTorch's state_dict lists them. One
// instantiation per layer type, whatever the callers do with the list (which keeps compile time down).
template <class L>
void append_tensors(const std::string& prefix, long parameter_base, long buffer_base, std::vector<VisitedTensor>& out) {
  if constexpr (CompositeLayer<L>) {
    L::for_each_child([&]<std::size_t I, class C>() {
      append_tensors<C>(prefix + L::child_name(I) + ".", parameter_base + L::child_parameter_offset(I),
                        buffer_base + L::child_buffer_offset(I), out);
    });
  } else {
    for (const TensorInfo& t : L::parameter_tensors)
      out.push_back({prefix + t.name, &t, parameter_base + t.offset, true});
    for (const TensorInfo& t : L::buffer_tensors) out.push_back({prefix + t.name, &t, buffer_base + t.offset, false});
  }
}

// f(name, info, arena_offset, is_parameter) for every parameter and buffer inside L.
template <class L, class F>
void visit_tensors(const std::string& prefix, long parameter_base, long buffer_base, F&& f) {
  std::vector<VisitedTensor> tensors;
  append_tensors<L>(prefix, parameter_base, buffer_base, tensors);
  for (const VisitedTensor& t : tensors) f(t.name, *t.info, t.offset, t.is_parameter);
}

struct SummaryRow {
  std::string index;  // "3", or "3.0.1" for a nested layer
  int depth;          // nesting depth, 0 for the network's own layers
  std::string layer;
  std::string output_shape;
  long parameters;
  long macs;
  int receptive_field;  // in input pixels; 0 where it is not defined (inside branches)
};

template <class L>
void append_summary_rows(const std::string& index, int depth, int receptive_field, std::vector<SummaryRow>& rows) {
  rows.push_back({index, depth, std::string(std::size_t(2 * depth), ' ') + L::describe(), L::output_shape_t::str(),
                  L::parameter_count, L::macs, receptive_field});
  if constexpr (CompositeLayer<L>) {
    L::for_each_child([&]<std::size_t I, class C>() {
      append_summary_rows<C>(index + "." + L::child_name(I), depth + 1, 0, rows);
    });
  }
}

}  // namespace ctnet
