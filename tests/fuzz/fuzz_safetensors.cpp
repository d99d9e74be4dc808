// libFuzzer target: load_safetensors on the input as a file. A success must hold tensors whose bytes match
// their shapes and dtypes and tile the data buffer; every accessor must then work.
#include <ctnet/train/safetensors.hpp>

#include "fuzz_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ctnet_fuzz::ScopedFile file(".safetensors", data, size);
  try {
    const ctnet::SafetensorsFile f = ctnet::load_safetensors(file.path);
    std::uint64_t total = 0;
    for (const ctnet::TensorRecord& t : f.tensors) {
      const std::uint64_t want = static_cast<std::uint64_t>(t.numel()) * ctnet::safetensors_dtype_size(t.dtype);
      if (want != t.bytes.size() || f.find(t.name) == nullptr) std::abort();
      total += t.bytes.size();
      if (t.dtype == "F32" && t.as_f32().size() != static_cast<std::size_t>(t.numel())) std::abort();
      if (t.dtype == "F64" && t.as_f64().size() != static_cast<std::size_t>(t.numel())) std::abort();
      if (t.dtype == "I64" && t.as_i64().size() != static_cast<std::size_t>(t.numel())) std::abort();
    }
    if (total > size) std::abort();
  } catch (const ctnet::CheckpointError&) {
  }
  return 0;
}
