// ctnet/core/error.hpp — the exception type for run-time errors (bad files, bad options, bad checkpoints).
//
// Requires: nothing. Guarantees: every run-time failure ctnet reports is a ctnet::Error (or a subclass)
// whose what() starts with "ctnet: " and says what is wrong and where (file, offset, option, ...).
#pragma once

#include <stdexcept>
#include <string>

namespace ctnet {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error("ctnet: " + message) {}
};

// Bad data files: missing, truncated, wrong magic, inconsistent counts.
class DataError : public Error {
 public:
  using Error::Error;
};

// Bad checkpoints: corrupt, wrong format, different architecture.
class CheckpointError : public Error {
 public:
  using Error::Error;
};

// Bad options: nonsensical hyper-parameters or command-line values.
class OptionError : public Error {
 public:
  using Error::Error;
};

}  // namespace ctnet
