// ctnet/core/layer_concept.hpp — the layer contract and the backend contract, as C++20 concepts.
//
// Requires: C++20. Guarantees: BoundLayer<L> holds for every bound layer ctnet can run, built-in or a
// user's own; Backend<B> for every backend a Model can own. Where a layer is bound (graph/binding.hpp)
// each missing member is reported once, as a "ctnet: layer contract: ..." static_assert inside a
// rule template whose first argument names the layer (at_layer<Position, Spec>); the broken layer is
// then replaced by a placeholder so no cascade of unrelated errors follows. Where a network runs on a
// backend, a layer without a kernel for it is reported as "ctnet: layer has no forward kernel for this
// backend" naming the bound layer and the backend.
#pragma once

#include <concepts>
#include <cstddef>
#include <string>
#include <type_traits>

#include "diagnostics.hpp"
#include "layer.hpp"
#include "rng.hpp"
#include "shape.hpp"
#include "type_list.hpp"

namespace ctnet {

// A backend as a layer binding sees it before any backend is chosen: host memory, no ops. A layer's
// forward/backward must be callable with it (a template on the backend B, possibly constrained on
// B::host_accessible); kernels for other backends are checked when the network runs on them.
struct HostProbeBackend {
  static constexpr const char* name = "host-probe";
  static constexpr bool host_accessible = true;
};

namespace contract {

// Each member of the contract on its own, so a failure can say which one is missing.
template <class L>
concept shapes = requires {
  typename L::input_shape_t;
  typename L::output_shape_t;
} && is_shape_v<typename L::input_shape_t> && is_shape_v<typename L::output_shape_t>;

template <class L>
concept position = requires {
  { L::position } -> std::convertible_to<int>;
};

template <class L>
concept sizes = requires {
  { L::parameter_count } -> std::convertible_to<long>;
  { L::buffer_count } -> std::convertible_to<long>;
};

template <class L>
concept cost = requires {
  { L::macs } -> std::convertible_to<long>;
  { L::rf_kernel } -> std::convertible_to<int>;
  { L::rf_stride } -> std::convertible_to<int>;
};

template <class L>
concept workspace = requires {
  { L::workspace_per_sample } -> std::convertible_to<long>;
  { L::workspace_fixed } -> std::convertible_to<long>;
  { L::inference_per_sample } -> std::convertible_to<long>;
};

template <class L>
concept describe = requires {
  { L::describe() } -> std::convertible_to<std::string>;
};

template <class L>
concept init = requires(float* p, double* d, Generator& gen) {
  L::init(p, p, gen);
  L::init(d, d, gen);
};

template <class L, class B, class T>
concept forward = requires(const Context<T>& ctx, const T* x, T* y, long n) {
  L::template forward<B>(ctx, x, y, n);
};

template <class L, class B, class T>
concept backward = requires(const Context<T>& ctx, const T* x, const T* y, const T* gy, T* gx, long n) {
  L::template backward<B>(ctx, x, y, gy, gx, n);
};

// Composites (Sequential blocks, Residual, branches) name their children instead of owning tensors.
template <class L>
concept composite = requires { L::is_composite; };

template <class L>
concept tensor_tables = requires {
  typename std::remove_cvref_t<decltype(L::parameter_tensors)>::value_type;
  typename std::remove_cvref_t<decltype(L::buffer_tensors)>::value_type;
  { L::parameter_tensors.size() } -> std::convertible_to<std::size_t>;
  { L::buffer_tensors.size() } -> std::convertible_to<std::size_t>;
} && std::same_as<typename std::remove_cvref_t<decltype(L::parameter_tensors)>::value_type, TensorInfo> &&
                        std::same_as<typename std::remove_cvref_t<decltype(L::buffer_tensors)>::value_type, TensorInfo>;

template <class L>
concept kind = requires {
  { L::kind } -> std::convertible_to<LayerKind>;
};

// Every tensor lies inside its arena, has as many values as its dims say, and the tables cover the
// arenas exactly (else checkpoints would miss values or read past them).
template <class Table>
constexpr bool table_covers(const Table& table, long count) {
  long total = 0;
  for (const TensorInfo& t : table) {
    if (t.rank < 0 || t.rank > 4 || t.offset < 0 || t.size < 0 || t.offset + t.size > count) return false;
    long product = 1;
    for (int i = 0; i < t.rank; ++i) product *= t.dims[std::size_t(i)];
    if (product != t.size) return false;
    total += t.size;
  }
  return total == count;
}
template <class L>
constexpr bool tables_cover() {
  if constexpr (composite<L> || !tensor_tables<L> || !sizes<L>) {
    return true;  // composites name their children's tensors; a missing member is reported on its own
  } else {
    return table_covers(L::parameter_tensors, L::parameter_count) && table_covers(L::buffer_tensors, L::buffer_count);
  }
}

}  // namespace contract

// The layer contract. A spec S (hyper-parameters only) has `template <class In, int Position> struct
// bind`; the bound layer L = S::bind<In, Position> has, as static members (BoundLayerBase<In, Out,
// Position> supplies every one of them but describe/forward/backward, with the defaults of a layer without
// parameters):
//   input_shape_t, output_shape_t         Shapes (output decided from In at compile time)
//   position                              its flat index, as nn.Sequential numbers modules
//   parameter_count, buffer_count         floats it owns in the parameter and buffer arenas
//   macs, rf_kernel, rf_stride            multiply-adds per sample, receptive-field kernel and stride
//   workspace_per_sample, workspace_fixed, inference_per_sample   scratch floats it needs
//   kind                                  LayerKind::other unless it takes part in a fusion
//   parameter_tensors, buffer_tensors     TensorInfo tables (PyTorch names and shapes) covering its
//                                         arenas exactly; composites have is_composite and children instead
//   describe()                            a PyTorch-style repr, used by summary and checkpoint metadata
//   init(T* params, T* buffers, Generator&)   for float and double
//   forward<B>(const Context<T>&, const T* x, T* y, long n)
//   backward<B>(const Context<T>&, const T* x, const T* y, const T* gy, T* gx, long n)
//       gx may be null; parameter gradients are accumulated into ctx.grads.
// Its kernels are its own: forward/backward are templates on the backend B, called with B = Cpu (or
// any backend); a layer that runs only where memory is host memory constrains them on B::host_accessible.
template <class L>
concept BoundLayer = contract::shapes<L> && contract::position<L> && contract::sizes<L> && contract::cost<L> &&
                     contract::workspace<L> && contract::describe<L> && contract::init<L> &&
                     contract::forward<L, HostProbeBackend, float> &&
                     contract::backward<L, HostProbeBackend, float> &&
                     (contract::composite<L> || (contract::kind<L> && contract::tensor_tables<L>)) &&
                     contract::tables_cover<L>();

// A layer runs on backend B with scalar T when its kernels accept them.
template <class L, class B, class T>
concept RunsOn = contract::forward<L, B, T> && contract::backward<L, B, T>;

namespace contract {

// The backend's memory type: one contiguous array of T in the backend's memory.
template <class Buf, class T>
concept buffer = requires(Buf b, const Buf cb, T* host, const T* chost, std::size_t n) {
  b.resize(n);
  b.zero();
  { b.data() } -> std::same_as<T*>;
  { cb.data() } -> std::same_as<const T*>;
  { cb.size() } -> std::convertible_to<std::size_t>;
  b.upload(chost, n);
  cb.download(host, n);
};

}  // namespace contract

// The backend contract. A backend B is a policy type with
//   name                   a const char* for messages ("cpu", "cuda")
//   host_accessible        whether Buffer memory can be read and written by host code (Model::parameters())
//   Buffer<T>              for float (and double where supported): resize, zero, data, size, upload, download
// and the static op templates the built-in layers call (B::conv2d_forward<geometry>(...), B::relu_forward,
// ...: backend/cpu/*.hpp lists them). Optional capabilities, read with `requires`: fuses_conv_epilogue,
// fuses_bn_relu_dropout. A user's layer need not use any op: it brings its kernels itself.
template <class B>
concept Backend = requires {
  { B::name } -> std::convertible_to<const char*>;
  { B::host_accessible } -> std::convertible_to<bool>;
  typename B::template Buffer<float>;
} && contract::buffer<typename B::template Buffer<float>, float>;

}  // namespace ctnet

// The messages, one per member, each naming the layer (Where = at_layer<Position, Spec>).
CTNET_SHAPE_RULE(layer_shapes, "ctnet: layer contract: the bound layer has no input_shape_t/output_shape_t Shapes (derive it from BoundLayerBase<In, Out, Position>)")
CTNET_SHAPE_RULE(layer_position, "ctnet: layer contract: the bound layer has no static int position (BoundLayerBase gives it)")
CTNET_SHAPE_RULE(layer_sizes, "ctnet: layer contract: the bound layer has no static parameter_count/buffer_count (BoundLayerBase gives 0)")
CTNET_SHAPE_RULE(layer_cost, "ctnet: layer contract: the bound layer has no static macs/rf_kernel/rf_stride (BoundLayerBase gives 0, 1, 1)")
CTNET_SHAPE_RULE(layer_workspace, "ctnet: layer contract: the bound layer has no static workspace_per_sample/workspace_fixed/inference_per_sample (BoundLayerBase gives 0)")
CTNET_SHAPE_RULE(layer_kind, "ctnet: layer contract: the bound layer has no static LayerKind kind (BoundLayerBase gives LayerKind::other)")
CTNET_SHAPE_RULE(layer_tensor_tables, "ctnet: layer contract: the bound layer has no parameter_tensors/buffer_tensors tables of TensorInfo (BoundLayerBase gives empty ones)")
CTNET_SHAPE_RULE(layer_tables_cover, "ctnet: layer contract: parameter_tensors/buffer_tensors do not cover parameter_count/buffer_count exactly (offsets, sizes and dims must agree)")
CTNET_SHAPE_RULE(layer_describe, "ctnet: layer contract: the bound layer has no static std::string describe()")
CTNET_SHAPE_RULE(layer_init, "ctnet: layer contract: the bound layer has no static init(T* params, T* buffers, Generator&) for float and double")
CTNET_SHAPE_RULE(layer_forward, "ctnet: layer contract: the bound layer has no static template <class B, class T> forward(const Context<T>&, const T* x, T* y, long n)")
CTNET_SHAPE_RULE(layer_backward, "ctnet: layer contract: the bound layer has no static template <class B, class T> backward(const Context<T>&, const T* x, const T* y, const T* gy, T* gx, long n)")
CTNET_SHAPE_RULE(layer_forward_kernel, "ctnet: layer has no forward kernel for this backend (its forward<B> does not accept this backend and scalar)")
CTNET_SHAPE_RULE(layer_backward_kernel, "ctnet: layer has no backward kernel for this backend (its backward<B> does not accept this backend and scalar)")
CTNET_SHAPE_RULE(backend_contract, "ctnet: backend contract: the backend needs static name, static bool host_accessible and Buffer<T> (resize, zero, data, size, upload, download)")

namespace ctnet::detail {

// One static_assert per missing member of L (bound from spec Spec at Position); true when all hold.
template <class Spec, class L, int Position>
constexpr bool check_layer_contract() {
  using where = at_layer<Position, Spec>;
  static_assert(rule::layer_shapes<where, void, void, contract::shapes<L>>::value);
  static_assert(rule::layer_position<where, void, void, contract::position<L>>::value);
  static_assert(rule::layer_sizes<where, void, void, contract::sizes<L>>::value);
  static_assert(rule::layer_cost<where, void, void, contract::cost<L>>::value);
  static_assert(rule::layer_workspace<where, void, void, contract::workspace<L>>::value);
  static_assert(rule::layer_kind<where, void, void, contract::composite<L> || contract::kind<L>>::value);
  static_assert(rule::layer_tensor_tables<where, void, void, contract::composite<L> || contract::tensor_tables<L>>::value);
  static_assert(rule::layer_tables_cover<where, void, void, contract::tables_cover<L>()>::value);
  static_assert(rule::layer_describe<where, void, void, contract::describe<L>>::value);
  static_assert(rule::layer_init<where, void, void, contract::init<L>>::value);
  static_assert(rule::layer_forward<where, void, void, contract::forward<L, HostProbeBackend, float>>::value);
  static_assert(rule::layer_backward<where, void, void, contract::backward<L, HostProbeBackend, float>>::value);
  return BoundLayer<L>;
}

// Stands in for a layer that broke the contract (already reported): its input passes through.
template <class In, int Position>
struct broken_layer : BoundLayerBase<In, In, Position> {
  static std::string describe() { return "(broken layer)"; }
  template <class B, class T>
  static void forward(const Context<T>&, const T*, T*, long) {}
  template <class B, class T>
  static void backward(const Context<T>&, const T*, const T*, const T*, T*, long) {}
};

// Checks the layers of a network against backend B and scalar T (their forward kernels, or with Backward
// their backward kernels); one message per layer that lacks one, naming the bound layer and the backend.
template <class B, class T, bool Backward, class... L>
constexpr bool check_kernels(TypeList<L...>*) {
  static_assert(rule::backend_contract<B, void, void, Backend<B>>::value);
  if constexpr (Backward)
    return (rule::layer_backward_kernel<L, B, T, contract::backward<L, B, T>>::value && ...);
  else
    return (rule::layer_forward_kernel<L, B, T, contract::forward<L, B, T>>::value && ...);
}

}  // namespace ctnet::detail
