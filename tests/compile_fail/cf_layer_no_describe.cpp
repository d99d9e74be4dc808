// expect: at_layer<1, NoDescribe>.*ctnet: layer contract: the bound layer has no static std::string describe\(\)
// A user's layer without describe(): summary and checkpoints could not name it.
#include <ctnet/ctnet.hpp>
using namespace ctnet;
struct NoDescribe {
  template <class In, int Position>
  struct bind : BoundLayerBase<In, In, Position> {
    template <class B, class T>
    static void forward(const Context<T>&, const T*, T*, long) {}
    template <class B, class T>
    static void backward(const Context<T>&, const T*, const T*, const T*, T*, long) {}
  };
};
using Net = Sequential<Input<4>, Linear<4>, NoDescribe>;
int main() { return int(Net::parameter_count); }
