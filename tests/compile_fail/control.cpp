// The same shapes as the compile-fail programs, made to fit: this one must compile.
#include <ctnet/ctnet.hpp>
using namespace ctnet;
using Net = Sequential<Input<1, 8, 8>, Conv2d<8, 3>, MaxPool2d<2>, Conv2d<16, 3>, Flatten, BatchNorm1d, Dropout<0.5f>,
                       Linear<10>, LogSoftmax>;
static_assert(Net::output_shape == Shape<10>{});
static_assert(within_parameter_budget<Net, 2000>());
static_assert(has_output_shape<Net, Shape<10>>());
int main() { return Net::parameter_count > 0 ? 0 : 1; }
