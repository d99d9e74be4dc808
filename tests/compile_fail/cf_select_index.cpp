// expect: at_layer<1, ctnet::Select<2> >.*ctnet: Select: index out of range for the tuple
#include <ctnet/ctnet.hpp>
using namespace ctnet;
using Net = Sequential<Input<6>, Parallel<Linear<2>, Linear<3>>, Select<2>>;
int main() { return int(Net::parameter_count); }
