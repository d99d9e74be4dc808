// libFuzzer target: parse_json, strict and with duplicate keys allowed. Whatever parses must write back to
// JSON that parses to an equal value (the round trip to_json promises).
#include <ctnet/core/json.hpp>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const bool duplicates : {false, true}) {
    try {
      const ctnet::JsonValue v = ctnet::parse_json(text, {.allow_duplicate_keys = duplicates});
      const std::string out = ctnet::to_json(v);
      const ctnet::JsonValue back = ctnet::parse_json(out, {.allow_duplicate_keys = duplicates});
      if (!(back == v)) std::abort();
      if (ctnet::to_json(back) != out) std::abort();
    } catch (const ctnet::JsonError&) {
    }
  }
  return 0;
}
