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
  // OneCycleLR peaking at 0.15, chosen on the validation split (scripts/search_mnist.py --stage flagship,
  // search/validation.csv): the only peak whose last three epochs stayed at or above 99.4% on both seeds
  // searched (0.2 fell to 99.34 on seed 1, 0.3 to 99.37 on seed 2).
  c.defaults.lr = 0.15;
  c.defaults.rotation = 7;
  c.defaults.translate = 0.08f;
  c.defaults.weight_decay = 1e-4;
  return c;
}

}  // namespace examples
