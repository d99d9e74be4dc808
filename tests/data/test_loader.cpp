// Tests for ctnet/data/loader.hpp: reproducible shuffling, coverage, partial batches, normalisation,
// augmentation determinism, cancellation and option checks, on a synthetic Dataset.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <ctnet/data/loader.hpp>
#include <vector>

namespace {

// n images of r x c; image i is filled with the byte (i % 256), label i % 10.
ctnet::Dataset make_data(int n, int r = 4, int c = 5) {
  ctnet::Dataset d;
  d.count = n;
  d.rows = r;
  d.cols = c;
  for (int i = 0; i < n; ++i) {
    d.images.insert(d.images.end(), static_cast<std::size_t>(r * c), static_cast<std::uint8_t>(i % 256));
    d.labels.push_back(static_cast<std::uint8_t>(i % 10));
  }
  return d;
}

ctnet::LoaderOptions opts(int batch, bool shuffle = true, std::uint64_t seed = 1) {
  ctnet::LoaderOptions o;
  o.batch_size = batch;
  o.shuffle = shuffle;
  o.seed = seed;
  return o;
}

// All batches of one epoch, copied.
std::vector<ctnet::Batch> epoch_batches(ctnet::DataLoader& loader, int epoch) {
  loader.start_epoch(epoch);
  std::vector<ctnet::Batch> out;
  ctnet::Batch b;
  while (loader.next(b)) out.push_back(b);
  return out;
}

std::vector<int> order(const std::vector<ctnet::Batch>& batches) {
  std::vector<int> all;
  for (const auto& b : batches) all.insert(all.end(), b.indices.begin(), b.indices.end());
  return all;
}

bool same(const ctnet::Batch& a, const ctnet::Batch& b) {
  return a.size == b.size && a.indices == b.indices && a.labels == b.labels && a.images == b.images;
}

}  // namespace

TEST_CASE("every index exactly once per epoch; partial last batch included") {
  const ctnet::Dataset d = make_data(103);
  ctnet::DataLoader loader(d, opts(10));
  CHECK(loader.batches_per_epoch() == 11);
  for (int epoch = 0; epoch < 3; ++epoch) {
    const auto batches = epoch_batches(loader, epoch);
    REQUIRE(batches.size() == 11);
    for (std::size_t i = 0; i < 10; ++i) CHECK(batches[i].size == 10);
    CHECK(batches.back().size == 3);
    CHECK(batches.back().images.size() == 3u * 20u);
    CHECK(batches.back().labels.size() == 3u);
    std::vector<int> all = order(batches);
    std::sort(all.begin(), all.end());
    for (int i = 0; i < 103; ++i) REQUIRE(all[static_cast<std::size_t>(i)] == i);
  }
}

TEST_CASE("drop_last drops the partial batch") {
  const ctnet::Dataset d = make_data(103);
  ctnet::LoaderOptions o = opts(10);
  o.drop_last = true;
  ctnet::DataLoader loader(d, o);
  CHECK(loader.batches_per_epoch() == 10);
  const auto batches = epoch_batches(loader, 0);
  CHECK(batches.size() == 10);
  for (const auto& b : batches) CHECK(b.size == 10);
  const ctnet::Dataset small = make_data(3);
  ctnet::DataLoader none(small, o);
  CHECK(none.batches_per_epoch() == 0);
  CHECK(epoch_batches(none, 0).empty());
}

TEST_CASE("same seed gives the same batches; different epochs and seeds give different orders") {
  const ctnet::Dataset d = make_data(200);
  ctnet::DataLoader a(d, opts(16, true, 42)), b(d, opts(16, true, 42)), c(d, opts(16, true, 43));
  const auto a0 = epoch_batches(a, 0), b0 = epoch_batches(b, 0), c0 = epoch_batches(c, 0);
  REQUIRE(a0.size() == b0.size());
  for (std::size_t i = 0; i < a0.size(); ++i) CHECK(same(a0[i], b0[i]));
  CHECK(order(a0) != order(c0));
  const auto a1 = epoch_batches(a, 1);
  CHECK(order(a0) != order(a1));
  // Going back to epoch 0 reproduces it: the permutation depends only on (seed, epoch).
  CHECK(order(epoch_batches(a, 0)) == order(a0));
  std::vector<int> identity(200);
  for (int i = 0; i < 200; ++i) identity[static_cast<std::size_t>(i)] = i;
  CHECK(order(a0) != identity);
}

TEST_CASE("without shuffle the order is the dataset order") {
  const ctnet::Dataset d = make_data(25);
  ctnet::DataLoader loader(d, opts(7, false));
  const auto batches = epoch_batches(loader, 5);
  const std::vector<int> all = order(batches);
  for (int i = 0; i < 25; ++i) CHECK(all[static_cast<std::size_t>(i)] == i);
}

TEST_CASE("images are NCHW, byte / 255, normalised; labels match indices") {
  const ctnet::Dataset d = make_data(30);
  ctnet::LoaderOptions o = opts(8);
  o.normalize = {0.5f, 0.25f};
  ctnet::DataLoader loader(d, o);
  for (const auto& b : epoch_batches(loader, 0)) {
    for (int i = 0; i < b.size; ++i) {
      const int index = b.indices[static_cast<std::size_t>(i)];
      CHECK(b.labels[static_cast<std::size_t>(i)] == index % 10);
      const float expected = (static_cast<float>(index % 256) / 255.0f - 0.5f) / 0.25f;
      for (int k = 0; k < 20; ++k)
        REQUIRE(b.images[static_cast<std::size_t>(i * 20 + k)] == doctest::Approx(expected).epsilon(1e-6));
    }
  }
  ctnet::DataLoader plain(d, opts(8));  // default MNIST statistics
  const auto b = epoch_batches(plain, 0).front();
  const float x = static_cast<float>(b.indices[0] % 256) / 255.0f;
  CHECK(b.images[0] == doctest::Approx((x - 0.1307f) / 0.3081f));
}

TEST_CASE("augmentation depends only on (seed, epoch, index), not on batching") {
  // Images with structure, so that the warp changes them.
  ctnet::Dataset d = make_data(40, 12, 12);
  for (std::size_t k = 0; k < d.images.size(); ++k) d.images[k] = static_cast<std::uint8_t>((k * 37) % 256);
  ctnet::LoaderOptions o = opts(5, true, 9);
  o.augment = ctnet::RandomAffine(20.0f, 0.1f, 0.1f, 0.9f, 1.1f, 5.0f);
  ctnet::LoaderOptions o2 = o;
  o2.batch_size = 7;  // different batch composition, same samples
  ctnet::DataLoader a(d, o), b(d, o), c(d, o2);
  const auto a0 = epoch_batches(a, 3), b0 = epoch_batches(b, 3), c0 = epoch_batches(c, 3);
  for (std::size_t i = 0; i < a0.size(); ++i) CHECK(same(a0[i], b0[i]));

  // Per dataset index, the augmented image is the same however the epoch was batched.
  const std::size_t px = 144;
  auto image_of = [&](const std::vector<ctnet::Batch>& batches, int index) {
    for (const auto& batch : batches)
      for (int i = 0; i < batch.size; ++i)
        if (batch.indices[static_cast<std::size_t>(i)] == index)
          return std::vector<float>(batch.images.begin() + static_cast<std::ptrdiff_t>(i * px),
                                    batch.images.begin() + static_cast<std::ptrdiff_t>((i + 1) * px));
    return std::vector<float>{};
  };
  for (int index = 0; index < 40; ++index) REQUIRE(image_of(a0, index) == image_of(c0, index));

  // And it differs from the unaugmented image and between epochs.
  ctnet::DataLoader plain(d, opts(5, true, 9));
  const auto p0 = epoch_batches(plain, 3);
  CHECK(image_of(a0, 0) != image_of(p0, 0));
  const auto a1 = epoch_batches(a, 4);
  CHECK(image_of(a0, 0) != image_of(a1, 0));

  // A RandomRotation is accepted as augmentation.
  ctnet::LoaderOptions o3 = opts(5);
  o3.augment = ctnet::RandomRotation{10.0f};
  ctnet::DataLoader rot(d, o3);
  CHECK(epoch_batches(rot, 0).size() == 8);
}

TEST_CASE("start_epoch mid-epoch cancels the rest; the loader can be destroyed at any point") {
  const ctnet::Dataset d = make_data(100);
  ctnet::DataLoader loader(d, opts(10));
  const auto full = epoch_batches(loader, 1);
  loader.start_epoch(0);
  ctnet::Batch b;
  REQUIRE(loader.next(b));
  REQUIRE(loader.next(b));
  loader.start_epoch(1);  // abandon epoch 0 after two batches
  const std::vector<ctnet::Batch> restarted = [&] {
    std::vector<ctnet::Batch> out;
    ctnet::Batch x;
    while (loader.next(x)) out.push_back(x);
    return out;
  }();
  REQUIRE(restarted.size() == full.size());
  for (std::size_t i = 0; i < full.size(); ++i) CHECK(same(restarted[i], full[i]));
  CHECK_FALSE(loader.next(b));  // past the end stays false
  CHECK_FALSE(loader.next(b));

  for (int k = 0; k < 20; ++k) {  // destroy while the worker is mid-epoch
    ctnet::DataLoader l(d, opts(3));
    l.start_epoch(k);
    ctnet::Batch x;
    for (int j = 0; j < k % 4; ++j) l.next(x);
  }
  ctnet::DataLoader never_started(d, opts(3));
  CHECK_THROWS_AS(never_started.next(b), ctnet::Error);
}

TEST_CASE("buffers are reused: no reallocation once sizes are reached") {
  const ctnet::Dataset d = make_data(64, 28, 28);
  ctnet::DataLoader loader(d, opts(8));
  loader.start_epoch(0);
  ctnet::Batch b;
  REQUIRE(loader.next(b));
  REQUIRE(loader.next(b));  // both buffers have now been filled once
  std::vector<const float*> seen = {b.images.data()};
  while (loader.next(b)) seen.push_back(b.images.data());
  loader.start_epoch(1);
  while (loader.next(b)) seen.push_back(b.images.data());
  std::sort(seen.begin(), seen.end());
  seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
  CHECK(seen.size() == 2);  // the two buffers of double buffering, swapped back and forth
}

TEST_CASE("options are validated") {
  const ctnet::Dataset d = make_data(10);
  CHECK_THROWS_AS(ctnet::DataLoader(d, opts(0)), ctnet::OptionError);
  ctnet::LoaderOptions o = opts(4);
  o.normalize.std = 0.0f;
  CHECK_THROWS_AS(ctnet::DataLoader(d, o), ctnet::OptionError);
  o = opts(4);
  o.augment = ctnet::RandomAffine(0.0f, 0.0f, 0.0f, 2.0f, 1.0f);
  CHECK_THROWS_AS(ctnet::DataLoader(d, o), ctnet::OptionError);
  ctnet::DataLoader ok(d, opts(4));
  CHECK_THROWS_AS(ok.start_epoch(-1), ctnet::OptionError);
  ctnet::Dataset broken = make_data(10);
  broken.labels.pop_back();
  CHECK_THROWS_AS(ctnet::DataLoader(broken, opts(4)), ctnet::DataError);
}
