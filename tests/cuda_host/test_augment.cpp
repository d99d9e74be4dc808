// The augmentation body the CUDA backend gathers with (backend/common/augment.hpp), run on the host against
// DataLoader's augmented batches: equal bit for bit, for rotations, translations, scale and shear.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include <ctnet/backend/common/augment.hpp>
#include <ctnet/backend/common/data.hpp>
#include <ctnet/data/loader.hpp>

using namespace ctnet;

namespace {

Dataset synthetic(int count, int rows, int cols) {
  Dataset d;
  d.count = count;
  d.rows = rows;
  d.cols = cols;
  d.images.resize(std::size_t(count) * rows * cols);
  d.labels.resize(std::size_t(count));
  Generator g(11, RngStream::user);
  for (auto& p : d.images) {
    const std::uint32_t r = g.next_u32();
    p = (r & 3) == 0 ? 0 : std::uint8_t(r >> 24);  // some background, some strokes
  }
  for (int i = 0; i < count; ++i) d.labels[std::size_t(i)] = std::uint8_t(i % 10);
  return d;
}

void check_against_loader(const RandomAffine& augment, int rows, int cols) {
  const Dataset d = synthetic(37, rows, cols);
  LoaderOptions o;
  o.batch_size = 8;
  o.seed = 5;
  o.augment = augment;
  DataLoader loader(d, o);
  std::vector<kernels::AffineCoefficients> table;
  for (int epoch : {1, 2}) {
    kernels::affine_table(augment, o.seed, epoch, d.count, rows, cols, table);
    const std::vector<int> order = epoch_order(d.count, o.seed, epoch);
    loader.start_epoch(epoch);
    Batch b;
    int first = 0;
    while (loader.next(b)) {
      CHECK(std::equal(b.indices.begin(), b.indices.end(), order.begin() + first));
      std::vector<float> mine(b.images.size());
      std::vector<int> targets(std::size_t(b.size));
      for (long i = 0; i < long(mine.size()); ++i)
        kernels::gather_affine(i, d.images.data(), order.data() + first, table.data(), rows, cols, mine.data(),
                               o.normalize.mean, 1.0f / o.normalize.std);
      for (int s = 0; s < b.size; ++s) kernels::gather_label(s, d.labels.data(), order.data() + first, targets.data());
      CHECK(std::memcmp(mine.data(), b.images.data(), mine.size() * sizeof(float)) == 0);
      CHECK(targets == b.labels);
      first += b.size;
    }
    CHECK(first == d.count);
  }
}

}  // namespace

TEST_CASE("augment body: rotation equals DataLoader's batches bit for bit") {
  check_against_loader(RandomAffine(7.0f), 28, 28);
}

TEST_CASE("augment body: rotation with translation equals DataLoader's batches bit for bit") {
  check_against_loader(RandomAffine(15.0f, 0.1f, 0.1f), 28, 28);
}

TEST_CASE("augment body: scale and shear on a non-square image equal DataLoader's batches bit for bit") {
  check_against_loader(RandomAffine(30.0f, 0.2f, 0.05f, 0.8f, 1.2f, 10.0f), 12, 17);
}

TEST_CASE("augment body: the identity transform reproduces the plain gather") {
  const Dataset d = synthetic(5, 9, 9);
  const std::vector<kernels::AffineCoefficients> table(5);  // default: identity
  const std::vector<int> order = epoch_order(5, 3, 1);
  std::vector<float> a(5 * 81), b(5 * 81);
  for (long i = 0; i < 5 * 81; ++i) {
    kernels::gather_affine(i, d.images.data(), order.data(), table.data(), 9, 9, a.data(), 0.1307f, 1.0f / 0.3081f);
    kernels::gather_normalize(i, d.images.data(), order.data(), 81, b.data(), 0.1307f, 1.0f / 0.3081f);
  }
  CHECK(a == b);
}
