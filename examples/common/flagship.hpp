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
  c.defaults.epochs = 15;
  c.defaults.batch = 128;
  // OneCycleLR peaking at 0.2: over seeds 1-4 the last three epochs stayed at or above 99.4% for three
  // seeds (seed 2: 99.38, 99.46, 99.46); at 0.1 seeds 1 and 3 fell to 99.38 and 99.33.
  c.defaults.lr = 0.2;
  c.defaults.rotation = 7;
  c.defaults.translate = 0.08f;
  c.defaults.weight_decay = 1e-4;
  return c;
}

}  // namespace examples
