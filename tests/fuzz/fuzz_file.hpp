// tests/fuzz/fuzz_file.hpp — what the file-reading fuzz targets share: the input written to a private file.
//
// The readers under test take a path (they check the file's size and kind before reading), so each input is
// written to a file named after the process: targets running side by side never share one.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace ctnet_fuzz {

// /dev/shm (memory) when there is one: the fuzzer writes one file per execution.
inline std::string input_path(const char* suffix) {
  std::error_code ec;
  const std::filesystem::path dir =
      std::filesystem::is_directory("/dev/shm", ec) ? std::filesystem::path("/dev/shm") : std::filesystem::temp_directory_path();
  return (dir / ("ctnet_fuzz_" + std::to_string(::getpid()) + suffix)).string();
}

inline void write_file(const std::string& path, const std::uint8_t* data, std::size_t size) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();  // the harness itself failed: not a finding in the reader
  if (size > 0 && std::fwrite(data, 1, size, f) != size) std::abort();
  if (std::fclose(f) != 0) std::abort();
}

// Removes the file when the input is done, however the reader returned.
struct ScopedFile {
  std::string path;
  ScopedFile(const char* suffix, const std::uint8_t* data, std::size_t size) : path(input_path(suffix)) {
    write_file(path, data, size);
  }
  ~ScopedFile() { std::remove(path.c_str()); }
};

}  // namespace ctnet_fuzz
