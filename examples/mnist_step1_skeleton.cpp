// Step 1: the skeleton — plain conv + ReLU blocks, two max-pools, a fully-connected head. It over-fits.
#include "common/mnist_example.hpp"
#include "mnist_models.hpp"

int main(int argc, char** argv) {
  examples::MnistExampleConfig c;
  c.name = "mnist_step1_skeleton";
  c.description =
      "MNIST step 1 (skeleton): 3x3 conv + ReLU blocks, exactly two max-pools and a fully-connected head;\n"
      "no batch-norm, no dropout, no augmentation. Expect training accuracy to run ahead of test accuracy.";
  c.defaults.epochs = 15;
  c.defaults.batch = 128;
  c.defaults.lr = 0.01;
  c.defaults.schedule = "step";
  return examples::run_mnist_example<mnist::Step1Skeleton>(argc, argv, c, examples::run_on_cuda);
}
