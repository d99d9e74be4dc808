// expect: at_layer<0, NoShapes>.*ctnet: layer contract: the bound layer has no input_shape_t/output_shape_t
// A user's layer written without BoundLayerBase that forgot the shapes; everything else is there.
#include <ctnet/ctnet.hpp>
using namespace ctnet;
struct NoShapes {
  template <class In, int Position>
  struct bind {
    static constexpr int position = Position;
    static constexpr LayerKind kind = LayerKind::other;
    static constexpr long parameter_count = 0, buffer_count = 0, macs = 0;
    static constexpr int rf_kernel = 1, rf_stride = 1;
    static constexpr long workspace_per_sample = 0, workspace_fixed = 0, inference_per_sample = 0;
    static constexpr std::array<TensorInfo, 0> parameter_tensors{}, buffer_tensors{};
    static std::string describe() { return "NoShapes()"; }
    template <class T>
    static void init(T*, T*, Generator&) {}
    template <class B, class T>
    static void forward(const Context<T>&, const T*, T*, long) {}
    template <class B, class T>
    static void backward(const Context<T>&, const T*, const T*, const T*, T*, long) {}
  };
};
using Net = Sequential<Input<8>, NoShapes, Linear<2>>;
int main() { return int(Net::parameter_count); }
