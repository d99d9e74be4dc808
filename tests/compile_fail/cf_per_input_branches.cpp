// expect: at_layer<0, ctnet::PerInput<ctnet::Linear<4> > >.*ctnet: PerInput needs exactly one branch per input component
#include <ctnet/ctnet.hpp>
using namespace ctnet;
using Net = Sequential<Inputs<Input<8>, Input<1>>, PerInput<Linear<4>>>;
int main() { return int(Net::parameter_count); }
