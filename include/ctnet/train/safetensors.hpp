// ctnet/train/safetensors.hpp — read and write safetensors files, the checkpoint format NumPy/PyTorch tools read.
//
// The format and its types (safetensors_format.hpp), the checked reader load_safetensors
// (safetensors_read.hpp) and the atomic writer save_safetensors (safetensors_write.hpp); include this header
// for both, or one of them alone. Requires: a little-endian host. Guarantees: see each header.
#pragma once

#include "safetensors_format.hpp"
#include "safetensors_read.hpp"
#include "safetensors_write.hpp"
