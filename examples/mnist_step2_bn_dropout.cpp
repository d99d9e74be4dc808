// Step 2: the skeleton with BatchNorm after every conv and dropout after every layer but the last.
#include "common/mnist_example.hpp"
#include "mnist_models.hpp"

int main(int argc, char** argv) {
  examples::MnistExampleConfig c;
  c.name = "mnist_step2_bn_dropout";
  c.description =
      "MNIST step 2: the step-1 skeleton with BatchNorm after every conv and Dropout(0.1) after every layer\n"
      "but the last. Batch-norm lets it train faster; dropout narrows the train/test gap.";
  c.defaults.epochs = 15;
  c.defaults.batch = 128;
  c.defaults.lr = 0.05;
  return examples::run_mnist_example<mnist::Step2BnDropout>(argc, argv, c, examples::run_on_cuda);
}
