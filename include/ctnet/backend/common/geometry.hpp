// ctnet/backend/common/geometry.hpp — compile-time geometry of ops, shared by every backend.
//
// Requires: C++20 (class-type template arguments). Guarantees: a geometry is a literal value, so a
// backend receives it as a template argument and every loop bound in its kernels is a constant; its
// helpers are CTNET_HD, so device code may call them.
#pragma once

#include "../../core/host_device.hpp"

namespace ctnet {

struct ConvGeometry {
  int in_c, in_h, in_w, out_c, out_h, out_w, kernel, stride, padding;
  bool bias;
  CTNET_HD constexpr int col_rows() const { return in_c * kernel * kernel; }
  CTNET_HD constexpr int out_hw() const { return out_h * out_w; }
  CTNET_HD constexpr long in_size() const { return static_cast<long>(in_c) * in_h * in_w; }
  CTNET_HD constexpr long out_size() const { return static_cast<long>(out_c) * out_h * out_w; }
  CTNET_HD constexpr bool is_pointwise() const { return kernel == 1 && stride == 1 && padding == 0; }
};

}  // namespace ctnet
