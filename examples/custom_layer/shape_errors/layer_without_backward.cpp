// A user's layer that forgot its backward: the layer contract names the layer and the member.
#include <ctnet/ctnet.hpp>

struct ForwardOnly {
  template <class In, int Position>
  struct bind : ctnet::BoundLayerBase<In, In, Position> {
    static std::string describe() { return "ForwardOnly()"; }
    template <class B, class T>
    static void forward(const ctnet::Context<T>&, const T* x, T* y, long n) {
      for (long i = 0; i < n * In::size; ++i) y[i] = x[i];
    }
  };
};
using Net = ctnet::Sequential<ctnet::Input<8>, ctnet::Linear<4>, ForwardOnly>;
int main() { return int(Net::parameter_count); }
