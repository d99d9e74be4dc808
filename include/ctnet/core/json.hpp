// ctnet/core/json.hpp — a small, strict JSON parser (safetensors headers), and the writer (json_write.hpp).
//
// Requires: UTF-8 input. Guarantees: parse_json accepts exactly RFC 8259 JSON (no comments, no trailing commas,
// no NaN, valid UTF-8 only, lone surrogates rejected), never recurses deeper than max_depth (itself capped at
// json_max_depth_limit, 1000, so no caller can ask for a stack overflow), and reports every failure as a
// JsonError carrying the byte position.
// Limits (hostile input): memory is proportional to the text (at most about 60 bytes per input byte, for
// "[0,0,0,...]": a 40-byte value per two bytes, doubled while a vector grows); max_values caps the number of
// values for callers that need a tighter bound. A number that does not fit a double ("1e999") is an error,
// an integer literal beyond int64 is kept as a double, and a number's length costs time linear in it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <limits>
#include <string>

#include "compiled.hpp"
#include "json_value.hpp"
#include "json_write.hpp"

namespace ctnet {

inline constexpr int json_max_depth_limit = 1000;

struct JsonParseOptions {
  int max_depth = 64;                 // nesting of arrays + objects; deeper input is an error, not a stack overflow
  bool allow_duplicate_keys = false;  // true keeps duplicates in order so the caller can report them its own way
  std::size_t max_values = std::numeric_limits<std::size_t>::max();  // values (of every kind) in the document
};

CTNET_COLD JsonValue parse_json(std::string_view text, JsonParseOptions options = {});

}  // namespace ctnet

#if CTNET_COLD_BODIES
namespace ctnet {

namespace detail {

class JsonParser {
 public:
  JsonParser(std::string_view text, JsonParseOptions options) : s_(text), opt_(options) {
    opt_.max_depth = std::min(opt_.max_depth, json_max_depth_limit);
  }

  JsonValue parse_document() {
    skip_ws();
    JsonValue v = parse_value(0);
    skip_ws();
    if (p_ != s_.size()) fail("unexpected " + here() + " after the JSON value");
    return v;
  }

 private:
  [[noreturn]] void fail(std::string reason) const { throw JsonError(std::move(reason), p_); }
  [[noreturn]] void fail_at(std::string reason, std::size_t at) const { throw JsonError(std::move(reason), at); }
  bool at_end() const { return p_ >= s_.size(); }
  unsigned char peek() const { return static_cast<unsigned char>(s_[p_]); }
  std::string here() const {
    if (at_end()) return "end of input";
    const unsigned char c = peek();
    if (c >= 0x20 && c < 0x7f) return std::string("character '") + static_cast<char>(c) + "'";
    static constexpr char hex[] = "0123456789abcdef";
    return std::string("byte 0x") + hex[c >> 4] + hex[c & 15];
  }
  void skip_ws() {
    while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) ++p_;
  }
  void expect(char c, const char* what) {
    if (at_end() || s_[p_] != c) fail(std::string("expected ") + what + ", got " + here());
    ++p_;
  }

  JsonValue parse_value(int depth) {
    if (at_end()) fail("unexpected end of input");
    if (++values_ > opt_.max_values) fail("more than " + std::to_string(opt_.max_values) + " values");
    switch (s_[p_]) {
      case '{': return parse_object(depth + 1);
      case '[': return parse_array(depth + 1);
      case '"': return JsonValue(parse_string());
      case 't': return parse_literal("true", JsonValue(true));
      case 'f': return parse_literal("false", JsonValue(false));
      case 'n': return parse_literal("null", JsonValue());
      default:
        if (s_[p_] == '-' || (s_[p_] >= '0' && s_[p_] <= '9')) return parse_number();
        fail("unexpected " + here());
    }
  }

  JsonValue parse_literal(std::string_view word, JsonValue v) {
    if (s_.substr(p_, word.size()) != word) fail("invalid literal (expected '" + std::string(word) + "')");
    p_ += word.size();
    return v;
  }

  void check_depth(int depth) const {
    if (depth > opt_.max_depth) fail("nesting deeper than " + std::to_string(opt_.max_depth) + " levels");
  }

  JsonValue parse_array(int depth) {
    check_depth(depth);
    ++p_;
    JsonValue::Array items;
    skip_ws();
    if (!at_end() && s_[p_] == ']') {
      ++p_;
      return JsonValue(std::move(items));
    }
    for (;;) {
      skip_ws();
      items.push_back(parse_value(depth));
      skip_ws();
      if (!at_end() && s_[p_] == ',') { ++p_; continue; }
      expect(']', "',' or ']'");
      return JsonValue(std::move(items));
    }
  }

  JsonValue parse_object(int depth) {
    check_depth(depth);
    ++p_;
    JsonValue::Object members;
    std::unordered_set<std::string> seen;  // copies, because member strings move when the vector grows
    skip_ws();
    if (!at_end() && s_[p_] == '}') {
      ++p_;
      return JsonValue(std::move(members));
    }
    for (;;) {
      skip_ws();
      if (at_end() || s_[p_] != '"') fail("expected a string key, got " + here());
      const std::size_t key_at = p_;
      std::string key = parse_string();
      if (!opt_.allow_duplicate_keys && !seen.insert(key).second) fail_at("duplicate key \"" + key + "\"", key_at);
      skip_ws();
      expect(':', "':'");
      skip_ws();
      JsonValue v = parse_value(depth);
      members.emplace_back(std::move(key), std::move(v));
      skip_ws();
      if (!at_end() && s_[p_] == ',') { ++p_; continue; }
      expect('}', "',' or '}'");
      return JsonValue(std::move(members));
    }
  }

  unsigned parse_hex4() {
    unsigned u = 0;
    for (int i = 0; i < 4; ++i, ++p_) {
      if (at_end()) fail("unexpected end of input in \\u escape");
      const char c = s_[p_];
      const int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                    : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
      if (d < 0) fail("invalid hex digit in \\u escape");
      u = u * 16 + static_cast<unsigned>(d);
    }
    return u;
  }

  static void append_utf8(std::string& out, unsigned cp) {
    auto put = [&](unsigned b) { out.push_back(static_cast<char>(b)); };
    if (cp < 0x80) {
      put(cp);
    } else if (cp < 0x800) {
      put(0xC0 | (cp >> 6)), put(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      put(0xE0 | (cp >> 12)), put(0x80 | ((cp >> 6) & 0x3F)), put(0x80 | (cp & 0x3F));
    } else {
      put(0xF0 | (cp >> 18)), put(0x80 | ((cp >> 12) & 0x3F)), put(0x80 | ((cp >> 6) & 0x3F)), put(0x80 | (cp & 0x3F));
    }
  }

  // Length of the valid UTF-8 sequence starting at p_, or 0; rejects overlongs, surrogates and > U+10FFFF.
  std::size_t utf8_length() const {
    const unsigned char c = peek();
    std::size_t n = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) n = 2;
    else if (c >= 0xE0 && c <= 0xEF) n = 3, lo = (c == 0xE0 ? 0xA0 : 0x80), hi = (c == 0xED ? 0x9F : 0xBF);
    else if (c >= 0xF0 && c <= 0xF4) n = 4, lo = (c == 0xF0 ? 0x90 : 0x80), hi = (c == 0xF4 ? 0x8F : 0xBF);
    else return 0;
    if (p_ + n > s_.size()) return 0;
    for (std::size_t i = 1; i < n; ++i) {
      const auto b = static_cast<unsigned char>(s_[p_ + i]);
      if (b < (i == 1 ? lo : 0x80) || b > (i == 1 ? hi : 0xBF)) return 0;
    }
    return n;
  }

  std::string parse_string() {
    ++p_;  // opening quote
    std::string out;
    for (;;) {
      if (at_end()) fail("unterminated string");
      const unsigned char c = peek();
      if (c == '"') {
        ++p_;
        return out;
      }
      if (c < 0x20) fail("unescaped control character in string");
      if (c >= 0x80) {
        const std::size_t n = utf8_length();
        if (n == 0) fail("invalid UTF-8 in string");
        out.append(s_.substr(p_, n)), p_ += n;
        continue;
      }
      if (c != '\\') { out.push_back(static_cast<char>(c)), ++p_; continue; }
      const std::size_t esc_at = p_++;
      if (at_end()) fail("unterminated string");
      static constexpr std::string_view escapes = "\"\\/bfnrt", meanings = "\"\\/\b\f\n\r\t";
      const char e = s_[p_++];
      if (const auto k = escapes.find(e); k != std::string_view::npos) {
        out.push_back(meanings[k]);
        continue;
      }
      if (e != 'u') fail_at("invalid escape", esc_at);
      unsigned cp = parse_hex4();
      if (cp >= 0xDC00 && cp <= 0xDFFF) fail_at("lone low surrogate in \\u escape", esc_at);
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (s_.substr(p_, 2) != "\\u") fail_at("high surrogate not followed by a low surrogate", esc_at);
        p_ += 2;
        const unsigned low = parse_hex4();
        if (low < 0xDC00 || low > 0xDFFF) fail_at("high surrogate not followed by a low surrogate", esc_at);
        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
      }
      append_utf8(out, cp);
    }
  }

  JsonValue parse_number() {
    const std::size_t start = p_;
    auto digits = [&] {
      const std::size_t from = p_;
      while (!at_end() && peek() >= '0' && peek() <= '9') ++p_;
      return p_ > from;
    };
    if (s_[p_] == '-') ++p_;
    if (!at_end() && s_[p_] == '0') ++p_;
    else if (!digits()) fail("invalid number");
    bool integral = true;
    if (!at_end() && s_[p_] == '.') {
      ++p_, integral = false;
      if (!digits()) fail("expected a digit after '.'");
    }
    if (!at_end() && (s_[p_] == 'e' || s_[p_] == 'E')) {
      ++p_, integral = false;
      if (!at_end() && (s_[p_] == '+' || s_[p_] == '-')) ++p_;
      if (!digits()) fail("expected a digit in exponent");
    }
    const char* first = s_.data() + start;
    const char* last = s_.data() + p_;
    if (integral) {  // an integer literal beyond int64 is tried as uint64, then falls through to double
      std::int64_t i = 0;
      const auto r = std::from_chars(first, last, i);
      if (r.ec == std::errc() && r.ptr == last) return JsonValue(i);
      std::uint64_t u = 0;
      const auto ru = std::from_chars(first, last, u);
      if (ru.ec == std::errc() && ru.ptr == last) return JsonValue(u);
    }
    double d = 0;
    const auto r = std::from_chars(first, last, d);
    if (r.ec != std::errc() || r.ptr != last) fail_at("number out of range", start);
    return JsonValue(d);
  }

  std::string_view s_;
  JsonParseOptions opt_;
  std::size_t p_ = 0;
  std::size_t values_ = 0;
};

}  // namespace detail

CTNET_COLD JsonValue parse_json(std::string_view text, JsonParseOptions options) {
  return detail::JsonParser(text, options).parse_document();
}

}  // namespace ctnet
#endif  // CTNET_COLD_BODIES
