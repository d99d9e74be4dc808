// Step 3, the flagship: global average pooling, < 8,000 parameters, >= 99.4% test accuracy.
#include "common/flagship.hpp"
#include "common/mnist_example.hpp"
#include "mnist_models.hpp"

int main(int argc, char** argv) {
  const examples::MnistExampleConfig c = examples::flagship_config();  // 15 epochs, batch 128, lr 0.15, rotation 7
  return examples::run_mnist_example<mnist::Step3Gap>(argc, argv, c, examples::run_on_cuda);
}
