// The example network does not fit in 500 parameters.
#include <ctnet/testing.hpp>

#include "../network.hpp"

CTNET_CHECK_PARAMETER_BUDGET(custom::Net, 500);
int main() { return 0; }
