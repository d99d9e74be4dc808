// The one compiled copy of ctnet's cold, network-independent functions (include/ctnet/core/compiled.hpp):
// each header below, read with CTNET_COMPILED_LIB_SOURCE, defines the CTNET_COLD functions it declares.
// A header that gains CTNET_COLD functions is listed here (tests/scripts/compiled_lists.sh checks the list).
#ifndef CTNET_COMPILED_LIB_SOURCE
#error "src/compiled/ctnet_compiled.cpp is built by CMake's ctnet_compiled, which defines CTNET_COMPILED_LIB_SOURCE"
#endif
#include <ctnet/core/json.hpp>
#include <ctnet/core/json_write.hpp>
#include <ctnet/core/output_file.hpp>
#include <ctnet/data/idx.hpp>
#include <ctnet/data/image_common.hpp>
#include <ctnet/data/image_file.hpp>
#include <ctnet/data/image_resize.hpp>
#include <ctnet/data/loader.hpp>
#include <ctnet/data/mnist.hpp>
#include <ctnet/data/pgm.hpp>
#include <ctnet/data/png.hpp>
#include <ctnet/export/onnx_graph.hpp>
#include <ctnet/export/onnx_layers.hpp>
#include <ctnet/train/checkpoint.hpp>
#include <ctnet/train/numeric_guard.hpp>
#include <ctnet/train/progress.hpp>
#include <ctnet/train/safetensors_read.hpp>
#include <ctnet/train/safetensors_write.hpp>
#include <ctnet/train/schedule.hpp>
#include <ctnet/train/state_dict.hpp>
#include <ctnet/train/training_state.hpp>
#include <ctnet/train/training_state_format.hpp>
