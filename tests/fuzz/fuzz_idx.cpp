// libFuzzer target: read_idx on the input as a file (raw IDX, or gzip when it starts with 1f 8b).
// Any exception other than ctnet::DataError, any sanitizer report, leak or allocation over the limit is a finding.
#include <ctnet/data/idx.hpp>

#include "fuzz_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ctnet_fuzz::ScopedFile file(".idx", data, size);
  try {
    const ctnet::IdxArray a = ctnet::read_idx(file.path);
    std::uint64_t count = 1;
    for (const int d : a.dims) count *= static_cast<std::uint64_t>(d);
    if (a.dims.empty() || count != a.bytes.size()) std::abort();  // a success must hold exactly its elements
  } catch (const ctnet::DataError&) {
  }
  return 0;
}
