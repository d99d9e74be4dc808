// expect: ctnet::input<10>, ctnet::expected_shape<19>.*ctnet: network output shape differs from the expected shape
#include <ctnet/ctnet.hpp>
using namespace ctnet;
using Net = Sequential<Input<1, 28, 28>, Flatten, Linear<10>, LogSoftmax>;
static_assert(has_output_shape<Net, Shape<19>>());
int main() { return 0; }
