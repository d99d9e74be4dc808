// expect: HostOnly::bind<ctnet::Shape<4>, 0>, DeviceMemory, float.*ctnet: layer has no forward kernel for this backend
// A layer whose kernel needs host memory, run on a backend whose memory is not host memory.
#include <ctnet/ctnet.hpp>
using namespace ctnet;
struct HostOnly {
  template <class In, int Position>
  struct bind : BoundLayerBase<In, In, Position> {
    static std::string describe() { return "HostOnly()"; }
    template <class B, class T>
      requires B::host_accessible
    static void forward(const Context<T>&, const T* x, T* y, long n) {
      for (long i = 0; i < n * In::size; ++i) y[i] = x[i];
    }
    template <class B, class T>
      requires B::host_accessible
    static void backward(const Context<T>&, const T*, const T*, const T* gy, T* gx, long n) {
      if (gx) for (long i = 0; i < n * In::size; ++i) gx[i] = gy[i];
    }
  };
};
// A backend in the shape of the CUDA one (memory the host cannot touch), without a GPU.
struct DeviceMemory {
  static constexpr const char* name = "device";
  static constexpr bool host_accessible = false;
  template <class T>
  using Buffer = cpu::Buffer<T>;
  template <class T>
  static void copy(const T* x, T* y, long n) { std::copy(x, x + n, y); }
  struct ExecutionContext {};  // what Model installs per call (nothing here)
  struct ExecutionScope {
    explicit ExecutionScope(ExecutionContext&) noexcept {}
  };
};
using Net = Sequential<Input<4>, HostOnly>;
int main() {
  Model<Net, DeviceMemory> model(1, 2);
  const float x[8] = {};
  return int(model.forward(x, 2)[0]);
}
