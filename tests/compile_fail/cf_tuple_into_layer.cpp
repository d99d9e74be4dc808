// expect: at_layer<0, ctnet::Linear<10> >, ctnet::TupleShape<ctnet::Shape<784>, ctnet::Shape<1> >.*ctnet: layer takes one tensor but its input is a tuple
#include <ctnet/ctnet.hpp>
using namespace ctnet;
using Net = Sequential<Inputs<Input<784>, Input<1>>, Linear<10>>;
int main() { return int(Net::parameter_count); }
