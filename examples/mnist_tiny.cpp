// The tiny model: the flagship's layout in fewer than 4,000 parameters (mnist::Tiny), the flagship's recipe.
// scripts/search_mnist.py builds it with -DCTNET_TINY_WIDTHS=C1,C2,T,C3,C4,C5 (CMake's CTNET_TINY_WIDTHS) to
// try other widths; the budget holds for every one of them.
#include "common/flagship.hpp"
#include "common/mnist_example.hpp"
#include "mnist_models.hpp"

static_assert(ctnet::within_parameter_budget<mnist::TinyBuilt, 3999>(), "mnist_tiny: fewer than 4,000 parameters");

int main(int argc, char** argv) {
  examples::MnistExampleConfig c = examples::flagship_config();
  c.name = "mnist_tiny";
  // The tiny widths were searched at a peak of 0.2 (search/validation.csv); 0.3 was no better on validation.
  c.defaults.lr = 0.2;
  c.description =
      "MNIST tiny: the flagship's layout (conv blocks with BatchNorm and Dropout(0.05), a 1x1 transition and one\n"
      "max-pool, global average pooling, a 1x1 conv to the 10 classes) in fewer than 4,000 parameters.";
  return examples::run_mnist_example<mnist::TinyBuilt>(argc, argv, c, examples::run_on_cuda);
}
