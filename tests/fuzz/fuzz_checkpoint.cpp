// libFuzzer target: load_checkpoint of the input into a small Model (safetensors parsing, then the ctnet
// metadata, fingerprint, tensor names, shapes and dtypes; or a plain state_dict by name and shape). A success must
// leave the file's values in the model.
#include "fuzz_net.hpp"
#include <ctnet/train/checkpoint.hpp>
#include <cstring>

#include "fuzz_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ctnet_fuzz::ScopedFile file(".ckpt.safetensors", data, size);
  ctnet::Model<ctnet_fuzz::CheckpointNet> model(1, 2);
  try {
    const ctnet::SafetensorsFile f = ctnet::load_checkpoint(model, file.path);
    const ctnet::TensorRecord* w = f.find("0.weight");
    if (!w || (w->dtype != "F32" && w->dtype != "F64")) std::abort();
    const std::vector<float> params = model.read_parameters();
    for (const ctnet::NamedTensor& t : decltype(model)::named_parameters()) {
      if (t.name != "0.weight") continue;
      // The model must now hold the file's values (F64 ones rounded to float).
      std::vector<float> want;
      if (w->dtype == "F32") want = w->as_f32();
      for (const double v : w->dtype == "F64" ? w->as_f64() : std::vector<double>()) want.push_back(float(v));
      if (want.size() != static_cast<std::size_t>(t.size) ||
          std::memcmp(params.data() + t.offset, want.data(), want.size() * sizeof(float)) != 0)
        std::abort();
    }
  } catch (const ctnet::CheckpointError&) {
  }
  return 0;
}
