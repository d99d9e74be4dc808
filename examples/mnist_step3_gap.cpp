// Step 3, the flagship: global average pooling, < 8,000 parameters, >= 99.4% test accuracy.
#include "common/mnist_example.hpp"
#include "mnist_models.hpp"

int main(int argc, char** argv) {
  examples::MnistExampleConfig c;
  c.name = "mnist_step3_gap";
  c.description =
      "MNIST step 3 (flagship): conv blocks with BatchNorm and Dropout(0.05), a 1x1 transition and one max-pool,\n"
      "global average pooling and a 1x1 conv to the 10 classes; fewer than 8,000 parameters.";
  c.epochs = 15;
  c.batch = 128;
  c.lr = 0.1;
  c.rotation = 7;
  return examples::run_mnist_example<mnist::Step3Gap>(argc, argv, c);
}
