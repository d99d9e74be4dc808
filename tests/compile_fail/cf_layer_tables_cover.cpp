// expect: at_layer<1, ShortTable>.*ctnet: layer contract: parameter_tensors/buffer_tensors do not cover parameter_count/buffer_count exactly
// 10 parameters but a table that names 9: a checkpoint would lose one.
#include <ctnet/ctnet.hpp>
using namespace ctnet;
struct ShortTable {
  template <class In, int Position>
  struct bind : BoundLayerBase<In, In, Position> {
    static constexpr long parameter_count = 10;
    static constexpr std::array<TensorInfo, 1> parameter_tensors{{{"weight", 0, 9, 2, {3, 3, 0, 0}}}};
    static std::string describe() { return "ShortTable()"; }
    template <class B, class T>
    static void forward(const Context<T>&, const T*, T*, long) {}
    template <class B, class T>
    static void backward(const Context<T>&, const T*, const T*, const T*, T*, long) {}
  };
};
using Net = Sequential<Input<4>, Linear<4>, ShortTable>;
int main() { return int(Net::parameter_count); }
