// expect: NotABackend.*ctnet: backend contract: the backend needs static name, static bool host_accessible and Buffer<T>
// A type that is not a backend (no memory type) given to Model.
#include <ctnet/ctnet.hpp>
using namespace ctnet;
struct NotABackend {
  static constexpr const char* name = "none";
};
using Net = Sequential<Input<4>, Linear<2>>;
int main() {
  Model<Net, NotABackend> model(1, 2);
  return int(model.max_batch());
}
