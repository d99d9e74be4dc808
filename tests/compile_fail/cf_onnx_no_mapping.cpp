// expect: onnx_mapping_exists<Swishless::bind<ctnet::Shape<6>, 1>, false>.*ctnet: export_onnx: this layer has no ONNX mapping
// expect-clang: ctnet: export_onnx: this layer has no ONNX mapping.*onnx_mapping_exists<Swishless::bind<ctnet::Shape<6>, 1>, false>
#include <ctnet/ctnet.hpp>
#include <ctnet/export/onnx.hpp>
using namespace ctnet;
// A user's layer without an ONNX mapping (and without `spec`): exporting a network with it must not compile.
struct Swishless {
  template <class In, int Position>
  struct bind : BoundLayerBase<In, In, Position> {
    static std::string describe() { return "Swishless()"; }
    template <class B, class T>
    static void forward(const Context<T>&, const T* x, T* y, long n) {
      for (long i = 0; i < n * In::size; ++i) y[i] = x[i];
    }
    template <class B, class T>
    static void backward(const Context<T>&, const T*, const T*, const T* gy, T* gx, long n) {
      for (long i = 0; gx && i < n * In::size; ++i) gx[i] = gy[i];
    }
  };
};
using Net = Sequential<Input<6>, Linear<6>, Swishless>;
int main() { return int(onnx_graph_of<Net>(std::vector<float>(42), {}).nodes.size()); }
