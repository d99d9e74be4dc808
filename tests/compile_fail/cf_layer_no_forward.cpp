// expect: at_layer<2, NoForward>.*ctnet: layer contract: the bound layer has no static template <class B, class T> forward
// A user's layer with a backward but no forward.
#include <ctnet/ctnet.hpp>
using namespace ctnet;
struct NoForward {
  template <class In, int Position>
  struct bind : BoundLayerBase<In, In, Position> {
    static std::string describe() { return "NoForward()"; }
    template <class B, class T>
    static void backward(const Context<T>&, const T*, const T*, const T*, T*, long) {}
  };
};
using Net = Sequential<Input<8>, Linear<4>, ReLU, NoForward, Linear<2>>;
int main() { return int(Net::parameter_count); }
