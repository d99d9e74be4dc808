// expect: ctnet::actual<7850>, ctnet::expected_at_most<5000>.*ctnet: network exceeds its parameter budget
#include <ctnet/ctnet.hpp>
using namespace ctnet;
using Net = Sequential<Input<1, 28, 28>, Flatten, Linear<10>, LogSoftmax>;
static_assert(within_parameter_budget<Net, 5000>());
int main() { return 0; }
