// Data parallelism without MPI: batch_share's split, the sharded DataLoader (the shards of every global batch,
// in rank order, are the unsharded batch, for even and uneven splits), bad shard options refused, and the
// single-process communicator leaving data alone.
#include "support/helpers.hpp"

#include <ctnet/data/loader.hpp>
#include <ctnet/dist/communicator.hpp>
#include <memory>
#include <vector>

#include "support/data.hpp"

using namespace ctnet;

TEST_CASE("batch_share splits a batch into contiguous shares, the first ranks taking the remainder") {
  const auto shares = [](int global, int ranks) {
    std::vector<int> counts;
    int next = 0;
    for (int r = 0; r < ranks; ++r) {
      const BatchShare s = batch_share(global, r, ranks);
      CHECK(s.first == next);
      next += s.count;
      counts.push_back(s.count);
    }
    CHECK(next == global);
    return counts;
  };
  CHECK(shares(7, 3) == std::vector<int>{3, 2, 2});
  CHECK(shares(32, 2) == std::vector<int>{16, 16});
  CHECK(shares(2, 3) == std::vector<int>{1, 1, 0});
  CHECK(shares(5, 1) == std::vector<int>{5});
  CHECK_THROWS_WITH_AS(batch_share(4, 3, 3), "ctnet: batch_share: rank 3 of 3, 4 rows", OptionError);
}

TEST_CASE("sharded loaders deal out each global batch: same permutation, samples and augmentation") {
  const Dataset data = testing::generated_digits(70, 2);  // batches of 32, 32, 6
  LoaderOptions o;
  o.batch_size = 32;
  o.seed = 3;
  o.augment = RandomAffine(10.0f, 0.1f, 0.1f);
  for (const int ranks : {2, 3, 4}) {
    CAPTURE(ranks);
    DataLoader whole(data, o);
    std::vector<std::unique_ptr<DataLoader>> shards;
    for (int r = 0; r < ranks; ++r) {
      LoaderOptions s = o;
      s.shard_rank = r;
      s.shard_count = ranks;
      shards.push_back(std::make_unique<DataLoader>(data, s));
      CHECK(shards.back()->batches_per_epoch() == whole.batches_per_epoch());
    }
    for (const int epoch : {0, 1}) {
      whole.start_epoch(epoch);
      for (auto& s : shards) s->start_epoch(epoch);
      Batch all, part;
      while (whole.next(all)) {
        std::vector<int> indices;
        std::vector<float> images;
        for (int r = 0; r < ranks; ++r) {
          REQUIRE(shards[std::size_t(r)]->next(part));
          CHECK(part.global_size == all.size);
          CHECK(part.size == batch_share(all.size, r, ranks).count);
          indices.insert(indices.end(), part.indices.begin(), part.indices.end());
          images.insert(images.end(), part.images.begin(), part.images.end());
        }
        CHECK(indices == all.indices);
        CHECK(images == all.images);
      }
      for (auto& s : shards) CHECK_FALSE(s->next(part));
    }
  }
}

TEST_CASE("a shard that does not exist is refused") {
  const Dataset data = testing::generated_digits(8, 2);
  LoaderOptions o;
  o.shard_rank = 2;
  o.shard_count = 2;
  CHECK_THROWS_WITH_AS(DataLoader(data, o), "ctnet: DataLoader: shard 2 of 2 does not exist", OptionError);
  o.shard_rank = 0;
  o.shard_count = 0;
  CHECK_THROWS_WITH_AS(DataLoader(data, o), "ctnet: DataLoader: shard 0 of 0 does not exist", OptionError);
}

TEST_CASE("the single-process communicator is the group of one") {
  SingleProcessCommunicator c;
  CHECK(c.rank() == 0);
  CHECK(c.size() == 1);
  CHECK(c.is_root());
  std::vector<float> v{1.5f, -2.0f};
  c.allreduce_sum_ordered(std::span<float>(v));
  c.broadcast(std::span<float>(v), 0);
  c.barrier();
  CHECK(v == std::vector<float>{1.5f, -2.0f});
}
