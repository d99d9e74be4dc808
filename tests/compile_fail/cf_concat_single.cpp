// expect: at_layer<1, ctnet::Concat>, ctnet::Shape<4>.*ctnet: layer needs a tuple input
#include <ctnet/ctnet.hpp>
using namespace ctnet;
using Net = Sequential<Input<6>, Linear<4>, Concat>;
int main() { return int(Net::parameter_count); }
