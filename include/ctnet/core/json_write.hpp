// ctnet/core/json_write.hpp — JSON text from a JsonValue (training logs' JSON lines, safetensors headers).
//
// Requires: strings in UTF-8. Guarantees: to_json writes compact JSON (no spaces, no newline) that parse_json
// (json.hpp) reads back to an equal value: integers as integers, doubles in their shortest round-trip form
// (locale-independent; -0.0 keeps its sign), strings escaped as RFC 8259 requires; non-finite doubles are
// written as null, because a NaN loss must not stop a training log.
#pragma once

#include <string>
#include <string_view>

#include "compiled.hpp"
#include "json_value.hpp"

namespace ctnet {

// `s` as a JSON string literal, quotes included, appended to `out`.
CTNET_COLD void write_json_string(std::string& out, std::string_view s);

// `v` as compact JSON, appended to `out`.
CTNET_COLD void write_json(std::string& out, const JsonValue& v);

// Compact JSON (no spaces, no newline), so a value is one line of a JSON-lines log.
CTNET_COLD std::string to_json(const JsonValue& v);

}  // namespace ctnet

#if CTNET_COLD_BODIES
#include <charconv>
#include <cmath>

namespace ctnet {

CTNET_COLD void write_json_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  static constexpr std::string_view specials = "\"\\\b\f\n\r\t", letters = "\"\\bfnrt";
  out.push_back('"');
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (const auto k = specials.find(ch); k != std::string_view::npos) {
      out.push_back('\\');
      out.push_back(letters[k]);
    } else if (c < 0x20) {
      out += "\\u00";
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    } else {
      out.push_back(ch);  // '/' and non-ASCII UTF-8 need no escaping
    }
  }
  out.push_back('"');
}

CTNET_COLD void write_json(std::string& out, const JsonValue& v) {
  char buf[40];
  switch (v.kind()) {
    case JsonValue::Kind::null: out += "null"; break;
    case JsonValue::Kind::boolean: out += v.as_bool() ? "true" : "false"; break;
    case JsonValue::Kind::number: {
      if (!v.is_integer() && !std::isfinite(v.as_double())) {
        out += "null";
        break;
      }
      // -0.0 keeps its ".0": "-0" would read back as the integer 0 and lose the sign (found by fuzz_json).
      if (!v.is_integer() && v.as_double() == 0.0 && std::signbit(v.as_double())) {
        out += "-0.0";
        break;
      }
      // Shortest round-trip form, locale-independent (unlike printf); integral doubles print without ".0".
      const auto r = v.is_integer()   ? std::to_chars(buf, buf + sizeof buf, v.as_int64())
                     : v.is_uint64()  ? std::to_chars(buf, buf + sizeof buf, v.as_uint64())
                                      : std::to_chars(buf, buf + sizeof buf, v.as_double());
      out.append(buf, r.ptr);
      // A double in [2^63, 2^64) written as bare digits would read back as that unsigned integer, which is not
      // equal to the double: it keeps a ".0" (found by fuzz_json: "9223372036854775808e-0").
      const double d = v.is_integer() || v.is_uint64() ? 0 : v.as_double();
      if (d >= 0x1p63 && d < 0x1p64 &&
          std::string_view(buf, std::size_t(r.ptr - buf)).find_first_not_of("0123456789") == std::string_view::npos)
        out += ".0";
      break;
    }
    case JsonValue::Kind::string: write_json_string(out, v.as_string()); break;
    case JsonValue::Kind::array:
      out.push_back('[');
      for (std::size_t i = 0; i < v.as_array().size(); ++i) {
        if (i) out.push_back(',');
        write_json(out, v.as_array()[i]);
      }
      out.push_back(']');
      break;
    case JsonValue::Kind::object:
      out.push_back('{');
      for (std::size_t i = 0; i < v.as_object().size(); ++i) {
        if (i) out.push_back(',');
        write_json_string(out, v.as_object()[i].first);
        out.push_back(':');
        write_json(out, v.as_object()[i].second);
      }
      out.push_back('}');
      break;
  }
}

CTNET_COLD std::string to_json(const JsonValue& v) {
  std::string out;
  write_json(out, v);
  return out;
}

}  // namespace ctnet
#endif  // CTNET_COLD_BODIES
