#include <ctnet/ctnet.hpp>
#include <ctnet/testing.hpp>
using Net = ctnet::Sequential<ctnet::Input<4>, ctnet::Linear<3>>;  // 15 parameters
CTNET_CHECK_PARAMETER_BUDGET(Net, 10);
int main() { return 0; }
