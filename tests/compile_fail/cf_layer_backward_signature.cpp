// expect: at_layer<1, WrongBackward>.*ctnet: layer contract: the bound layer has no static template <class B, class T> backward\(const Context<T>&, const T\* x, const T\* y, const T\* gy, T\* gx, long n\)
// backward without the output argument y: a wrong signature is reported as that member missing.
#include <ctnet/ctnet.hpp>
using namespace ctnet;
struct WrongBackward {
  template <class In, int Position>
  struct bind : BoundLayerBase<In, In, Position> {
    static std::string describe() { return "WrongBackward()"; }
    template <class B, class T>
    static void forward(const Context<T>&, const T*, T*, long) {}
    template <class B, class T>
    static void backward(const Context<T>&, const T*, const T*, T*, long) {}
  };
};
using Net = Sequential<Input<4>, Linear<4>, WrongBackward>;
int main() { return int(Net::parameter_count); }
