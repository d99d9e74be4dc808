// libFuzzer target: decode_gray_image (PNG or PGM, by the first bytes), then resizing to 28 x 28 as
// mnist_predict does. A success must give rows x cols pixels in [0, 1].
#include <cmath>
#include <ctnet/data/image_file.hpp>
#include <cstdlib>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<std::uint8_t> bytes(data, data + size);
  try {
    const ctnet::GrayImage img = ctnet::decode_gray_image(bytes, "fuzz input");
    if (img.rows < 1 || img.cols < 1 ||
        img.pixels.size() != static_cast<std::size_t>(img.rows) * static_cast<std::size_t>(img.cols))
      std::abort();
    for (const float p : img.pixels)
      if (!(p >= 0.0f && p <= 1.0f)) std::abort();
    const ctnet::GrayImage small = ctnet::resize_bilinear(img, 28, 28);
    for (const float p : small.pixels)
      if (!std::isfinite(p) || p < -1e-5f || p > 1.0f + 1e-5f) std::abort();
  } catch (const ctnet::DataError&) {
  }
  return 0;
}
