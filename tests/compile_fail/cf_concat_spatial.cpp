// expect: at_layer<0, ctnet::Concat>, ctnet::TupleShape<ctnet::Shape<1, 4, 4>, ctnet::Shape<2, 5, 5> >.*ctnet: Concat: CxHxW components must have the same height and width
#include <ctnet/ctnet.hpp>
using namespace ctnet;
using Net = Sequential<Inputs<Input<1, 4, 4>, Input<2, 5, 5>>, Concat>;
int main() { return int(Net::parameter_count); }
