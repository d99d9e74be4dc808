// Session 3: conv, conv, pool, convs, pool, dropout, a conv after the pool, GAP and a linear head.
#include "common/mnist_example.hpp"
#include "mnist_models.hpp"

int main(int argc, char** argv) {
  examples::MnistExampleConfig c;
  c.name = "mnist_session3";
  c.description =
      "MNIST session 3: conv1, conv2, pool1, two more convs, pool2, dropout, a conv after the second pool,\n"
      "global average pooling and a final linear layer.";
  c.defaults.epochs = 15;
  c.defaults.batch = 128;
  c.defaults.lr = 0.1;
  c.defaults.rotation = 7;
  c.defaults.translate = 0.08f;
  c.defaults.weight_decay = 1e-4;
  return examples::run_mnist_example<mnist::Session3>(argc, argv, c, examples::run_on_cuda);
}
