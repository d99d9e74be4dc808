// Prints the summary table of each tutorial network: shapes, parameters, MACs and receptive fields,
// all computed from the types (no forward pass). It takes no options but --help; anything else is refused.
#include <iostream>

#include "common/cli.hpp"
#include "mnist_models.hpp"

namespace {

void print_summaries() {
  std::cout << "Step 1: skeleton (two max-pools, fully-connected head)\n";
  ctnet::summary<mnist::Step1Skeleton>(std::cout);
  std::cout << "\nStep 2: batch-norm and dropout\n";
  ctnet::summary<mnist::Step2BnDropout>(std::cout);
  std::cout << "\nStep 3: global average pooling (the flagship)\n";
  ctnet::summary<mnist::Step3Gap>(std::cout);
  std::cout << "\nTiny: the flagship's layout in fewer than 4,000 parameters\n";
  ctnet::summary<mnist::Tiny>(std::cout);
  std::cout << "\nSession 3: conv, pool, dropout, conv after the pool, GAP, linear head\n";
  ctnet::summary<mnist::Session3>(std::cout);
  std::cout << "\nReference S4-GAP (../shared/bench)\n";
  ctnet::summary<mnist::Reference>(std::cout);
}

}  // namespace

int main(int argc, char** argv) {
  return examples::guarded_main("mnist_summaries", [&] {
    examples::CommandLine cli("mnist_summaries", "Prints the summary table of each tutorial network (shapes, "
                                                 "parameters, MACs, receptive fields), computed from the types.");
    if (!cli.parse(argc, argv, std::cout)) return 0;  // every argument but --help is an unknown option
    print_summaries();
    return 0;
  });
}
