// The example network has 3 outputs, not 10.
#include <ctnet/testing.hpp>

#include "../network.hpp"

CTNET_CHECK_OUTPUT_SHAPE(custom::Net, ctnet::Shape<10>);
int main() { return 0; }
