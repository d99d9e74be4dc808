// swish.hpp — Swish (PyTorch's nn.SiLU): y = x * sigmoid(x), a layer written outside ctnet.
//
// Requires: any input shape. Guarantees: shape-preserving, no parameters; runs on backends whose memory
// is host memory (ctnet's Cpu); on any other backend ctnet reports "layer has no forward kernel".
#pragma once

#include <cmath>
#include <string>

#include <ctnet/core/layer.hpp>

namespace custom {

struct Swish {
  template <class In, int Position>
  struct bind : ctnet::BoundLayerBase<In, In, Position> {  // defaults: no parameters, no workspace
    static std::string describe() { return "Swish()"; }

    template <class B, class T>
      requires B::host_accessible
    static void forward(const ctnet::Context<T>&, const T* x, T* y, long n) {
      for (long i = 0; i < n * In::size; ++i) y[i] = x[i] / (T(1) + std::exp(-x[i]));
    }
    // d/dx x*s(x) = s + x*s*(1 - s) = s + y*(1 - s).
    template <class B, class T>
      requires B::host_accessible
    static void backward(const ctnet::Context<T>&, const T* x, const T* y, const T* gy, T* gx, long n) {
      if (!gx) return;  // the first layer's input gradient is not wanted
      for (long i = 0; i < n * In::size; ++i) {
        const T s = T(1) / (T(1) + std::exp(-x[i]));
        gx[i] = gy[i] * (s + y[i] * (T(1) - s));
      }
    }
  };
};

}  // namespace custom
