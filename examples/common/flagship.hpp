// examples/common/flagship.hpp — the flagship's recipe (mnist_step3_gap), shared by the example and by
// ctnet_bench's time-to-accuracy run, so both train the same way.
#pragma once

#include "options.hpp"

namespace examples {

inline MnistExampleConfig flagship_config() {
  MnistExampleConfig c;
  c.name = "mnist_step3_gap";
  c.description =
      "MNIST step 3 (flagship): conv blocks with BatchNorm and Dropout(0.05), a 1x1 transition and one max-pool,\n"
      "global average pooling and a 1x1 conv to the 10 classes; fewer than 8,000 parameters.";
  c.epochs = 15;
  c.batch = 128;
  c.lr = 0.1;
  c.rotation = 7;
  c.translate = 0.08f;
  c.weight_decay = 1e-4;
  return c;
}

}  // namespace examples
