// expect: at_layer<0, ctnet::OneHot<10> >, ctnet::Shape<3>, ctnet::expected_shape<1>.*ctnet: layer needs a single index per sample
#include <ctnet/ctnet.hpp>
using namespace ctnet;
using Net = Sequential<Input<3>, OneHot<10>>;
int main() { return int(Net::parameter_count); }
