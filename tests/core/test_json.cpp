#include <doctest/doctest.h>

#include <cfloat>
#include <cmath>
#include <limits>
#include <string>

#include "ctnet/core/json.hpp"

using ctnet::JsonError;
using ctnet::JsonValue;
using ctnet::parse_json;
using ctnet::to_json;

namespace {

// Parses text that must fail; returns the error so tests can check reason and byte position.
JsonError parse_error(std::string_view text, ctnet::JsonParseOptions options = {}) {
  try {
    parse_json(text, options);
  } catch (const JsonError& e) {
    return e;
  }
  FAIL("expected a JsonError for: " << std::string(text));
  return JsonError("unreachable", 0);
}

}  // namespace

TEST_CASE("json: compact round trip keeps member order and values") {
  const std::string text = R"({"z":1,"a":[true,false,null,-7,2.5,"s"],"m":{},"e":[],"n":{"k":[[]]}})";
  const JsonValue v = parse_json(text);
  CHECK(to_json(v) == text);
  CHECK(parse_json(to_json(v)) == v);
  CHECK(v.as_object()[0].first == "z");
  CHECK(v.find("a")->size() == 6);
  CHECK(v.find("missing") == nullptr);
  CHECK(parse_json(" \t\r\n[ 1 , 2 ]\n ") == parse_json("[1,2]"));
}

TEST_CASE("json: builder API and type errors") {
  JsonValue v;
  v["name"] = "ctnet";
  v["epoch"] = 3;
  v["loss"] = 0.25;
  v["ok"] = true;
  v["list"].push_back(1);
  v["list"].push_back("two");
  v["name"] = std::string("again");  // existing key is replaced in place, not appended
  CHECK(to_json(v) == R"({"name":"again","epoch":3,"loss":0.25,"ok":true,"list":[1,"two"]})");
  CHECK(v.find("epoch")->as_int64() == 3);
  CHECK(v.find("loss")->as_double() == 0.25);
  CHECK_THROWS_AS((void)v.find("name")->as_int64(), ctnet::Error);
  CHECK_THROWS_AS((void)v.find("loss")->as_int64(), ctnet::Error);
  CHECK_THROWS_AS((void)v.as_array(), ctnet::Error);
  CHECK_THROWS_WITH((void)v.find("ok")->as_string(), "ctnet: json: expected a string, got a boolean");
  CHECK(to_json(JsonValue()) == "null");
  CHECK(to_json(JsonValue::array()) == "[]");
  CHECK(to_json(JsonValue::object()) == "{}");
}

TEST_CASE("json: string escapes are written and read back") {
  const std::string raw = std::string("q\"b\\s/\b\f\n\r\t") + '\x01' + '\x1f' + "\x7f";
  const std::string written = to_json(JsonValue(raw));
  CHECK(written == "\"q\\\"b\\\\s/\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\"");
  CHECK(parse_json(written).as_string() == raw);
  CHECK(parse_json(R"("\/\"\\")").as_string() == "/\"\\");
  CHECK(parse_json(R"("\u0041\u00e9\u20AC")").as_string() == "A\xC3\xA9\xE2\x82\xAC");
  CHECK(parse_json(R"("\u0000")").as_string() == std::string(1, '\0'));
  CHECK(to_json(JsonValue(std::string(1, '\0'))) == "\"\\u0000\"");
}

TEST_CASE("json: unicode") {
  // A surrogate pair becomes one 4-byte UTF-8 sequence (U+1F600).
  CHECK(parse_json(R"("\ud83d\ude00")").as_string() == "\xF0\x9F\x98\x80");
  // Raw UTF-8 passes through unchanged, both ways.
  const std::string mixed = "\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF";
  CHECK(parse_json("\"" + mixed + "\"").as_string() == mixed);
  CHECK(to_json(JsonValue(mixed)) == "\"" + mixed + "\"");

  CHECK(parse_error(R"("\ud83d")").reason() == "high surrogate not followed by a low surrogate");
  CHECK(parse_error(R"("\ud83dx")").position() == 1);
  CHECK(parse_error(R"("\ud83d\u0041")").reason() == "high surrogate not followed by a low surrogate");
  CHECK(parse_error(R"("ab\ude00")").reason() == "lone low surrogate in \\u escape");
  CHECK(parse_error(R"("ab\ude00")").position() == 3);
  CHECK(parse_error(R"("\u12G4")").reason() == "invalid hex digit in \\u escape");
  CHECK(parse_error(R"("\u12G4")").position() == 5);
  // Invalid UTF-8: overlong, encoded surrogate, above U+10FFFF, stray continuation, truncated sequence.
  for (const char* bad : {"\"\xC0\xAF\"", "\"\xE0\x80\xAF\"", "\"\xED\xA0\x80\"", "\"\xF4\x90\x80\x80\"",
                          "\"a\x80\"", "\"\xE2\x82\"", "\"\xF5\x80\x80\x80\""}) {
    const JsonError e = parse_error(bad);
    CHECK(e.reason() == "invalid UTF-8 in string");
    CHECK(e.position() == (bad[1] == 'a' ? 2u : 1u));
  }
}

TEST_CASE("json: numbers keep an exact int64 for integer literals") {
  const JsonValue big = parse_json("9223372036854775807");
  CHECK(big.is_integer());
  CHECK(big.as_int64() == std::numeric_limits<std::int64_t>::max());
  CHECK(parse_json("-9223372036854775808").as_int64() == std::numeric_limits<std::int64_t>::min());
  CHECK(parse_json("9007199254740993").as_int64() == 9007199254740993);  // not representable as a double
  const JsonValue over = parse_json("9223372036854775808");
  CHECK(over.is_number());
  CHECK_FALSE(over.is_integer());
  CHECK(over.as_double() == 9223372036854775808.0);
  CHECK(parse_json("0").as_int64() == 0);
  CHECK(parse_json("-0").is_integer());
  CHECK_FALSE(parse_json("1.0").is_integer());
  CHECK_FALSE(parse_json("1e3").is_integer());
  CHECK(parse_json("1E+3").as_double() == 1000.0);
  CHECK(parse_json("-2.5e-3").as_double() == -0.0025);
  CHECK(to_json(JsonValue(std::int64_t{-42})) == "-42");
  CHECK(to_json(JsonValue(std::numeric_limits<std::int64_t>::min())) == "-9223372036854775808");
  CHECK(to_json(JsonValue(std::uint64_t{7})) == "7");
  // Above int64 (a --seed of 2^64-1): exact, all digits, and read back as the same uint64.
  const JsonValue top(std::numeric_limits<std::uint64_t>::max());
  CHECK(to_json(top) == "18446744073709551615");
  CHECK(top.as_uint64() == std::numeric_limits<std::uint64_t>::max());
  CHECK_FALSE(top.is_integer());
  CHECK_THROWS_AS((void)top.as_int64(), ctnet::Error);
  CHECK(parse_json("18446744073709551615") == top);
  CHECK(parse_json("9223372036854775808").as_uint64() == 9223372036854775808ull);
  CHECK(to_json(JsonValue(std::uint64_t{9007199254740993})) == "9007199254740993");  // above 2^53, exact
  CHECK(parse_json("7").as_uint64() == 7);
  CHECK_THROWS_AS((void)parse_json("-7").as_uint64(), ctnet::Error);
  CHECK_FALSE(parse_json("18446744073709551616").is_uint64());  // beyond uint64: a double, as before
  CHECK(parse_json("18446744073709551616") != top);
}

TEST_CASE("json: doubles round-trip exactly; integral doubles print as integers") {
  CHECK(to_json(JsonValue(3.0)) == "3");
  CHECK(to_json(JsonValue(-0.5)) == "-0.5");
  CHECK(to_json(JsonValue(0.1)) == "0.1");
  CHECK(to_json(JsonValue(1e21)) == "1e+21");
  CHECK(to_json(JsonValue(1.0f / 3.0f)) == to_json(JsonValue(static_cast<double>(1.0f / 3.0f))));
  for (const double d : {0.1, 1.0 / 3.0, 2.0 / 3.0, 1e-300, 4.9406564584124654e-324, DBL_MAX, -DBL_MIN, 123456789.125,
                         6.02214076e23, 1e16 + 2}) {
    CAPTURE(d);
    CHECK(parse_json(to_json(JsonValue(d))).as_double() == d);
  }
  // JSON has no NaN/Inf; null keeps a log line valid when a loss diverges.
  CHECK(to_json(JsonValue(std::nan(""))) == "null");
  CHECK(to_json(JsonValue(-std::numeric_limits<double>::infinity())) == "null");
}

TEST_CASE("json: malformed input reports reason and byte position") {
  struct Case {
    const char* text;
    std::size_t position;
    const char* reason;
  };
  const Case cases[] = {
      {"", 0, "unexpected end of input"},
      {"   ", 3, "unexpected end of input"},
      {"[1,]", 3, "unexpected character ']'"},
      {"[1 2]", 3, "expected ',' or ']', got character '2'"},
      {"[1,2", 4, "expected ',' or ']', got end of input"},
      {"{\"a\" 1}", 5, "expected ':', got character '1'"},
      {"{\"a\":1,}", 7, "expected a string key, got character '}'"},
      {"{a:1}", 1, "expected a string key, got character 'a'"},
      {"{\"a\":1 \"b\":2}", 7, "expected ',' or '}', got character '\"'"},
      {"{\"a\":1,\"a\":2}", 7, "duplicate key \"a\""},
      {"01", 1, "unexpected character '1' after the JSON value"},
      {"[1]x", 3, "unexpected character 'x' after the JSON value"},
      {"-", 1, "invalid number"},
      {"-a", 1, "invalid number"},
      {"1.", 2, "expected a digit after '.'"},
      {"1.e5", 2, "expected a digit after '.'"},
      {"1e", 2, "expected a digit in exponent"},
      {"+1", 0, "unexpected character '+'"},
      {".5", 0, "unexpected character '.'"},
      {"1e400", 0, "number out of range"},
      {"NaN", 0, "unexpected character 'N'"},
      {"tru", 0, "invalid literal (expected 'true')"},
      {"nul", 0, "invalid literal (expected 'null')"},
      {"[fals]", 1, "invalid literal (expected 'false')"},
      {"\"abc", 4, "unterminated string"},
      {"\"a\tb\"", 2, "unescaped control character in string"},
      {"\"\\x\"", 1, "invalid escape"},
      {"\"\\u12\"", 5, "invalid hex digit in \\u escape"},
      {"[1]\x01", 3, "unexpected byte 0x01 after the JSON value"},
      {"/* c */ 1", 0, "unexpected character '/'"},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.text));
    const JsonError e = parse_error(c.text);
    CHECK(e.reason() == c.reason);
    CHECK(e.position() == c.position);
    CHECK(std::string(e.what()) ==
          "ctnet: json: " + std::string(c.reason) + " at byte " + std::to_string(c.position));
  }
  // Duplicate keys may be allowed so a caller can report them in its own terms.
  const JsonValue dup = parse_json("{\"a\":1,\"a\":2}", {.allow_duplicate_keys = true});
  CHECK(dup.size() == 2);
  CHECK(dup.find("a")->as_int64() == 1);
}

TEST_CASE("json: depth limit rejects deep nesting instead of overflowing the stack") {
  auto nested = [](std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); };
  CHECK(parse_json(nested(64)).is_array());
  const JsonError e = parse_error(nested(65));
  CHECK(e.reason() == "nesting deeper than 64 levels");
  CHECK(e.position() == 64);
  // Objects and arrays count together.
  std::string mixed;
  for (int i = 0; i < 40; ++i) mixed += "{\"k\":[";
  CHECK(parse_error(mixed + "1").reason() == "nesting deeper than 64 levels");
  // Hostile input: a million brackets fails fast.
  CHECK(parse_error(std::string(1'000'000, '[')).position() == 64);
  CHECK(parse_error("[[[1]]]", {.max_depth = 2}).position() == 2);
  CHECK(parse_json("[[1]]", {.max_depth = 2}) == parse_json("[[1]]"));
}

TEST_CASE("json: hostile input is bounded: depth cap, value budget, huge numbers") {
  // prefix + n copies of c + suffix, built with append (g++ 12 warns, wrongly, on "lit" + std::string(n, c)).
  auto repeat = [](std::string prefix, std::size_t n, char c, std::string_view suffix) {
    prefix.append(n, c);
    prefix.append(suffix);
    return prefix;
  };
  auto nested = [](std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); };
  // A caller cannot ask for a stack overflow: max_depth is capped at json_max_depth_limit.
  CHECK(parse_json(nested(1000), {.max_depth = 1'000'000}).is_array());
  const JsonError deep = parse_error(nested(1001), {.max_depth = 1'000'000});
  CHECK(deep.reason() == "nesting deeper than 1000 levels");
  CHECK(deep.position() == 1000);
  // max_values counts every value: the array and its three numbers are four.
  CHECK(parse_json("[1,2,3]", {.max_values = 4}).size() == 3);
  const JsonError many = parse_error("[1,2,3]", {.max_values = 3});
  CHECK(many.reason() == "more than 3 values");
  CHECK(many.position() == 5);
  CHECK(parse_error("{\"a\":{\"b\":1}}", {.max_values = 2}).reason() == "more than 2 values");
  // Numbers: too large for a double is an error at the number's start; a long integer becomes a double.
  CHECK(parse_error(repeat("[1", 400, '0', "]")).reason() == "number out of range");
  CHECK(parse_error(repeat("[1", 400, '0', "]")).position() == 1);
  CHECK(parse_error("-1e309").reason() == "number out of range");
  const JsonValue big = parse_json(repeat("1", 300, '0', ""));
  CHECK_FALSE(big.is_integer());
  CHECK(big.as_double() == 1e300);
  const JsonValue over = parse_json("9223372036854775808");  // int64 max + 1
  CHECK_FALSE(over.is_integer());
  CHECK(over.as_double() == 9223372036854775808.0);
  CHECK(parse_json("-9223372036854775808").as_int64() == std::numeric_limits<std::int64_t>::min());
  // A megabyte of digits is parsed in linear time (no quadratic scan) to the nearest double.
  CHECK(parse_json(repeat("0.", 1'000'000, '3', "")).as_double() == doctest::Approx(1.0 / 3.0));
}

TEST_CASE("json: -0.0 keeps its sign through a round trip (fuzz_json finding '-0e9')") {
  const JsonValue v = parse_json("-0e9");
  REQUIRE_FALSE(v.is_integer());
  CHECK(std::signbit(v.as_double()));
  CHECK(to_json(v) == "-0.0");  // "-0" would read back as the integer 0
  const JsonValue back = parse_json(to_json(v));
  CHECK(std::signbit(back.as_double()));
  CHECK(to_json(back) == "-0.0");
  CHECK(to_json(JsonValue(0.0)) == "0");
  CHECK(parse_json("-0").as_int64() == 0);  // an integer literal stays an integer
}

TEST_CASE("json: a double beyond int64 stays a double through a round trip (fuzz_json finding '9223372036854775808e-0')") {
  const JsonValue v = parse_json("9223372036854775808e-0");
  REQUIRE_FALSE(v.is_integer());
  REQUIRE_FALSE(v.is_uint64());
  CHECK(to_json(v) == "9223372036854775808.0");  // bare digits would read back as the uint64 2^63
  const JsonValue back = parse_json(to_json(v));
  CHECK(back == v);
  CHECK_FALSE(back.is_uint64());
  CHECK(to_json(back) == to_json(v));
  CHECK(to_json(parse_json("9223372036854775808")) == "9223372036854775808");  // the integer stays an integer
  CHECK(to_json(JsonValue(0x1p64)) == "18446744073709551616");  // past uint64 it reads back as a double anyway
  CHECK(parse_json(to_json(JsonValue(0x1p64))) == JsonValue(0x1p64));
}
