// libFuzzer target: read_idx on the input gzip-compressed, so the mutations reach the IDX header and data
// through the decompressor (mutating a .gz directly mostly breaks its CRC). The last input byte picks a
// damage: none, drop the 8-byte trailer (truncated stream), cut the stream in half, or append a second member.
#include <zlib.h>

#include <ctnet/data/idx.hpp>
#include <vector>

#include "fuzz_file.hpp"

namespace {

std::vector<std::uint8_t> gzip(const std::uint8_t* data, std::size_t size) {
  z_stream zs{};
  if (deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) std::abort();
  std::vector<std::uint8_t> out(deflateBound(&zs, static_cast<uLong>(size)) + 32);
  zs.next_in = const_cast<std::uint8_t*>(data);
  zs.avail_in = static_cast<uInt>(size);
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  if (deflate(&zs, Z_FINISH) != Z_STREAM_END) std::abort();
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const int damage = data[size - 1] & 3;
  std::vector<std::uint8_t> z = gzip(data, size - 1);
  if (damage == 1) z.resize(z.size() - 8);
  if (damage == 2) z.resize(z.size() / 2);
  if (damage == 3) {
    const std::vector<std::uint8_t> second = gzip(data, (size - 1) / 2);
    z.insert(z.end(), second.begin(), second.end());
  }
  const ctnet_fuzz::ScopedFile file(".idx.gz", z.data(), z.size());
  try {
    const ctnet::IdxArray a = ctnet::read_idx(file.path);
    if (damage == 1 || damage == 2) std::abort();  // a damaged stream must never be accepted
    std::uint64_t count = 1;
    for (const int d : a.dims) count *= static_cast<std::uint64_t>(d);
    if (count != a.bytes.size()) std::abort();
  } catch (const ctnet::DataError&) {
  }
  return 0;
}
