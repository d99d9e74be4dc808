// expect: at_layer<0, ctnet::Concat>, ctnet::TupleShape<ctnet::Shape<1, 4, 4>, ctnet::Shape<3> >.*ctnet: Concat: components must be all flat
#include <ctnet/ctnet.hpp>
using namespace ctnet;
using Net = Sequential<Inputs<Input<1, 4, 4>, Input<3>>, Concat>;
int main() { return int(Net::parameter_count); }
