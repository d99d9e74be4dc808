// The layer and backend contracts (core/layer_concept.hpp) and the compile-time checks (testing.hpp):
// every built-in layer satisfies the contract, the checks say true where they hold, and a layer's kernels
// are matched to the backends they accept.
#include <doctest/doctest.h>

#include <ctnet/ctnet.hpp>
#include <ctnet/testing.hpp>

using namespace ctnet;

namespace concept_test {
using Img = Shape<4, 8, 8>;
using Flat = Shape<16>;
static_assert(BoundLayer<Conv2d<8, 3, Padding<1>>::bind<Img, 0>>);
static_assert(BoundLayer<Conv2d<8, 3, Stride<2>, NoBias>::bind<Img, 0>>);
static_assert(BoundLayer<BatchNorm2d::bind<Img, 0>>);
static_assert(BoundLayer<BatchNorm1d::bind<Flat, 0>>);
static_assert(BoundLayer<ReLU::bind<Img, 0>>);
static_assert(BoundLayer<Identity::bind<Img, 0>>);
static_assert(BoundLayer<Dropout<0.25f>::bind<Img, 0>>);
static_assert(BoundLayer<MaxPool2d<2>::bind<Img, 0>>);
static_assert(BoundLayer<AvgPool2d<2>::bind<Img, 0>>);
static_assert(BoundLayer<Flatten::bind<Img, 0>>);
static_assert(BoundLayer<Linear<10>::bind<Flat, 0>>);
static_assert(BoundLayer<LogSoftmax::bind<Flat, 0>>);
static_assert(BoundLayer<Softmax::bind<Flat, 0>>);
static_assert(BoundLayer<Residual<Seq<Conv2d<4, 3, Padding<1>>, ReLU>>::bind<Img, 0>>);
static_assert(BoundLayer<Seq<Linear<4>, ReLU>::bind<Flat, 0>>);
using Whole = Sequential<Input<1, 12, 12>, Conv2d<4, 3>, BatchNorm2d, ReLU, MaxPool2d<2>, Flatten, Linear<10>, LogSoftmax>;
static_assert(BoundLayer<Whole>);
static_assert(Backend<Cpu>);
static_assert(RunsOn<Whole, Cpu, float> && RunsOn<Whole, Cpu, double>);

struct NoMemory {
  static constexpr const char* name = "none";
  static constexpr bool host_accessible = true;
};
static_assert(!Backend<NoMemory>);
static_assert(!Backend<int>);

// A layer whose kernels need host memory, and one without describe(): what the contract sees.
struct HostOnly {
  template <class In, int Position>
  struct bind : BoundLayerBase<In, In, Position> {
    static std::string describe() { return "HostOnly()"; }
    template <class B, class T>
      requires B::host_accessible
    static void forward(const Context<T>&, const T*, T*, long) {}
    template <class B, class T>
      requires B::host_accessible
    static void backward(const Context<T>&, const T*, const T*, const T*, T*, long) {}
  };
};
struct DeviceOnly {
  static constexpr const char* name = "device";
  static constexpr bool host_accessible = false;
};
static_assert(BoundLayer<HostOnly::bind<Flat, 0>>);
static_assert(RunsOn<HostOnly::bind<Flat, 0>, Cpu, float>);
static_assert(!RunsOn<HostOnly::bind<Flat, 0>, DeviceOnly, float>);
struct Mute : HostOnly::bind<Flat, 0> {};
static_assert(BoundLayer<Mute>);  // describe() is inherited
struct NoDescribe : BoundLayerBase<Flat, Flat, 0> {
  template <class B, class T>
  static void forward(const Context<T>&, const T*, T*, long) {}
  template <class B, class T>
  static void backward(const Context<T>&, const T*, const T*, const T*, T*, long) {}
};
static_assert(!BoundLayer<NoDescribe>);
static_assert(!contract::describe<NoDescribe> && contract::forward<NoDescribe, Cpu, float>);

// Tables that cover their arena exactly, and ones that do not.
constexpr std::array<TensorInfo, 2> good{{{"weight", 0, 6, 2, {2, 3, 0, 0}}, {"bias", 6, 2, 1, {2, 0, 0, 0}}}};
static_assert(contract::table_covers(good, 8));
static_assert(!contract::table_covers(good, 9));
constexpr std::array<TensorInfo, 1> wrong_dims{{{"weight", 0, 6, 2, {2, 2, 0, 0}}}};
static_assert(!contract::table_covers(wrong_dims, 6));
constexpr std::array<TensorInfo, 1> past_end{{{"weight", 4, 6, 2, {2, 3, 0, 0}}}};
static_assert(!contract::table_covers(past_end, 6));

CTNET_CHECK_INPUT_SHAPE(Whole, Shape<1, 12, 12>);
CTNET_CHECK_OUTPUT_SHAPE(Whole, Shape<10>);
CTNET_CHECK_LAYER_COUNT(Whole, 7);
CTNET_CHECK_PARAMETER_BUDGET(Whole, Whole::parameter_count);
CTNET_CHECK_MACS_BUDGET(Whole, Whole::macs);
CTNET_CHECK_RECEPTIVE_FIELD_AT_LEAST(Whole, 4);  // 3x3 conv, then a 2x2 pool: 3 + 1
CTNET_CHECK_LAYER_CONTRACT(HostOnly, Shape<3, 4, 4>);
CTNET_CHECK_LAYER_CONTRACT(Conv2d<8, 3>, Img);
}  // namespace concept_test
using namespace concept_test;

TEST_CASE("a user's host-only layer runs in a Model on the Cpu backend") {
  using Net = Sequential<Input<16>, Linear<4>, HostOnly, ReLU>;
  Model<Net> m(1, 2);
  float x[32] = {};
  CHECK(m.forward(x, 2) != nullptr);
  CHECK(Net::receptive_fields[Net::layer_count - 1] == 1);
  CHECK(has_layer_count<Net, 3>());
}
