#include <doctest/doctest.h>

#include <ctnet/core/rng.hpp>
#include <set>

using namespace ctnet;

TEST_CASE("Philox-4x32-10 matches the Random123 known-answer vectors") {
  // Known-answer tests from Random123's kat_vectors (philox4x32_10).
  const auto z = philox4x32(0, 0, 0, 0, 0);
  CHECK(z.v[0] == 0x6627e8d5u);
  CHECK(z.v[1] == 0xe169c58du);
  CHECK(z.v[2] == 0xbc57ac4cu);
  CHECK(z.v[3] == 0x9b00dbd8u);
  const auto f = philox4x32(0xffffffffffffffffull, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu);
  CHECK(f.v[0] == 0x408f276du);
  CHECK(f.v[1] == 0x41c83b0eu);
  CHECK(f.v[2] == 0xa20bc7c6u);
  CHECK(f.v[3] == 0x6d5451fdu);
}

TEST_CASE("generators are reproducible and streams independent") {
  Generator a(1, RngStream::init), b(1, RngStream::init), c(1, RngStream::shuffle), d(2, RngStream::init);
  std::set<std::uint32_t> seen;
  for (int i = 0; i < 1000; ++i) {
    const auto x = a.next_u32();
    CHECK(x == b.next_u32());
    seen.insert(x);
    (void)c;
    (void)d;
  }
  CHECK(seen.size() > 990);
  CHECK(Generator(1, RngStream::init).next_u32() != Generator(1, RngStream::shuffle).next_u32());
  CHECK(Generator(1, RngStream::init).next_u32() != Generator(2, RngStream::init).next_u32());
}

TEST_CASE("uniform draws cover 0 to 1 evenly and below(n) stays in range") {
  Generator g(3, RngStream::user);
  double sum = 0;
  int buckets[10] = {};
  for (int i = 0; i < 100000; ++i) {
    const float u = g.uniform();
    REQUIRE(u >= 0.0f);
    REQUIRE(u < 1.0f);
    sum += u;
    ++buckets[int(u * 10)];
  }
  CHECK(sum / 100000 == doctest::Approx(0.5).epsilon(0.01));
  for (int b : buckets) CHECK(b == doctest::Approx(10000).epsilon(0.05));
  for (int i = 0; i < 1000; ++i) CHECK(g.below(7) < 7u);
}

TEST_CASE("random_blocks computes the same blocks as random_block, lane by lane") {
  // Block runs inside one 2^32 range and across a carry into the block number's high word; seeds with
  // both key words set.
  const std::uint64_t firsts[] = {1000, (1ull << 32) - 5, (7ull << 32) - 9, ~0ull - 40};
  const std::uint64_t seeds[] = {77, 0x9E3779B97F4A7C15ull};
  for (std::uint64_t seed : seeds)
    for (std::uint64_t first : firsts) {
      std::uint32_t out[4][16];
      random_blocks(seed, RngStream::dropout, (5ull << 40) | 3, first, out);
      for (int l = 0; l < 16; ++l) {
        const Philox4x32 r = random_block(seed, RngStream::dropout, (5ull << 40) | 3, first + std::uint64_t(l));
        for (int k = 0; k < 4; ++k) CHECK(out[k][l] == r.v[k]);
      }
    }
}
