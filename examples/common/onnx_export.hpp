// examples/common/onnx_export.hpp — --export-onnx for the example programs on the CPU: the final model as an
// ONNX model (ctnet/export/onnx.hpp), where the build has ctnet::onnx (CTNET_HAVE_ONNX).
//
// Requires: CommonOptions parsed (options.hpp refuses --export-onnx in a build without ONNX, and checks the
// path before any training). Guarantees: writes the file atomically and says so on `out`; does nothing when
// the option was not given.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#if defined(CTNET_HAVE_ONNX)
#include <ctnet/export/onnx.hpp>
#endif

#include "options.hpp"

namespace examples {

template <class ModelT>
void export_onnx_if_asked(const CommonOptions& o, const ModelT& model, std::ostream& out,
                          std::vector<std::string> input_names = {}, std::vector<std::string> output_names = {}) {
  if (o.export_onnx.empty()) return;
#if defined(CTNET_HAVE_ONNX)
  ctnet::OnnxExportOptions options;
  options.input_names = std::move(input_names);
  options.output_names = std::move(output_names);
  ctnet::export_onnx(model, o.export_onnx, options);
  out << "exported " << o.export_onnx << " (ONNX, opset 17)\n";
#else
  (void)model, (void)out, (void)input_names, (void)output_names;  // options.hpp refused the option already
#endif
}

}  // namespace examples
