// ctnet/version.hpp — the library's version, as macros and as a string.
//
// Requires: nothing. Guarantees: CTNET_VERSION_MAJOR/MINOR/PATCH are the version that the top-level
// CMakeLists.txt reads from this file for project(VERSION ...) and the installed ctnetConfigVersion.cmake,
// so the three cannot disagree; CTNET_VERSION is one integer (major * 10000 + minor * 100 + patch) for
// #if tests, CTNET_VERSION_STRING the dotted form.
#pragma once

#define CTNET_VERSION_MAJOR 0
#define CTNET_VERSION_MINOR 2
#define CTNET_VERSION_PATCH 0

#define CTNET_VERSION (CTNET_VERSION_MAJOR * 10000 + CTNET_VERSION_MINOR * 100 + CTNET_VERSION_PATCH)

#define CTNET_VERSION_STRINGIFY_(x) #x
#define CTNET_VERSION_STRINGIFY(x) CTNET_VERSION_STRINGIFY_(x)
#define CTNET_VERSION_STRING                                                                        \
  CTNET_VERSION_STRINGIFY(CTNET_VERSION_MAJOR)                                                      \
  "." CTNET_VERSION_STRINGIFY(CTNET_VERSION_MINOR) "." CTNET_VERSION_STRINGIFY(CTNET_VERSION_PATCH)

namespace ctnet {

inline constexpr int version_major = CTNET_VERSION_MAJOR;
inline constexpr int version_minor = CTNET_VERSION_MINOR;
inline constexpr int version_patch = CTNET_VERSION_PATCH;
inline constexpr const char* version_string = CTNET_VERSION_STRING;

}  // namespace ctnet
