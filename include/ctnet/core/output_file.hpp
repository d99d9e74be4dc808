// ctnet/core/output_file.hpp — may a program create, or atomically replace, a file at this path?
//
// Requires: nothing. Guarantees: output_file_problem(path) returns "" when `path` names a regular file or
// nothing yet, in an existing directory this process may write in; otherwise one sentence naming the path
// and the reason: empty path, a directory, a device, FIFO or socket (never replaced: a save used to turn
// /dev/null into a regular file when run as root), a symbolic link, a missing or unwritable parent
// directory. Symbolic links are refused rather than followed: replacing one by rename would silently
// unlink it from its target, and writing through it lets whoever owns the link choose what is overwritten;
// the message names the link's target so the caller can pass that instead. Callers check before long work
// (the examples check --save and --csv before training) and again right before writing.
#pragma once

#include <string>

#include "compiled.hpp"

namespace ctnet {

CTNET_COLD std::string output_file_problem(const std::string& path);

}  // namespace ctnet

#if CTNET_COLD_BODIES
#include <cerrno>
#include <filesystem>
#include <system_error>

#if __has_include(<unistd.h>)
#include <unistd.h>
#endif

namespace ctnet {

CTNET_COLD std::string output_file_problem(const std::string& path) {
  namespace fs = std::filesystem;
  if (path.empty()) return "empty output path";
  std::error_code ec;
  const fs::file_status st = fs::symlink_status(path, ec);
  if (fs::is_symlink(st)) {
    std::error_code rc;
    const fs::path target = fs::read_symlink(path, rc);
    return "'" + path + "' is a symbolic link" + (rc ? std::string() : " to '" + target.string() + "'") +
           "; output is not written through links, give the file itself";
  }
  if (fs::is_directory(st)) return "'" + path + "' is a directory, not a file";
  if (fs::exists(st) && !fs::is_regular_file(st))
    return "'" + path + "' exists and is not a regular file (a device, FIFO or socket); refusing to replace it";
  const fs::path parent = fs::path(path).parent_path().empty() ? fs::path(".") : fs::path(path).parent_path();
  const fs::file_status dir = fs::status(parent, ec);
  if (!fs::exists(dir)) return "directory '" + parent.string() + "' (of '" + path + "') does not exist";
  if (!fs::is_directory(dir)) return "'" + parent.string() + "' (in '" + path + "') is not a directory";
#if __has_include(<unistd.h>)
  if (::access(parent.c_str(), W_OK | X_OK) != 0)
    return "cannot write in directory '" + parent.string() + "': " +
           std::error_code(errno, std::generic_category()).message();
#endif
  return {};
}

}  // namespace ctnet
#endif  // CTNET_COLD_BODIES
