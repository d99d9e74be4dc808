// ctnet/core/json_value.hpp — a JSON value: null, bool, number, string, array, object (ordered).
//
// Requires: nothing beyond C++20. Guarantees: objects keep member order (so output is deterministic);
// numbers keep a double and, when they were an integer literal that fits, the exact int64 (or uint64 above
// int64's range, so a 64-bit seed round-trips); a value of the
// wrong kind asked for its contents throws ctnet::Error. Parsing and writing are in json.hpp.
#pragma once

#include <charconv>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include "error.hpp"

namespace ctnet {

class JsonError : public Error {
 public:
  JsonError(std::string reason, std::size_t position)
      : Error("json: " + reason + " at byte " + std::to_string(position)), reason_(std::move(reason)),
        position_(position) {}
  const std::string& reason() const noexcept { return reason_; }
  std::size_t position() const noexcept { return position_; }

 private:
  std::string reason_;
  std::size_t position_;
};

class JsonValue {
 public:
  enum class Kind { null, boolean, number, string, array, object };
  using Array = std::vector<JsonValue>;
  using Member = std::pair<std::string, JsonValue>;
  using Object = std::vector<Member>;  // a vector, not a map: member order is part of the output

  JsonValue() noexcept = default;
  JsonValue(std::nullptr_t) noexcept {}
  JsonValue(bool b) : v_(b) {}
  template <std::integral T>
    requires(!std::same_as<T, bool>)
  JsonValue(T i) {
    if constexpr (std::is_unsigned_v<T> && sizeof(T) >= sizeof(std::int64_t)) {
      // Above int64 (a 64-bit seed, say): kept exact as a uint64, written with all its digits.
      if (i > static_cast<T>(std::numeric_limits<std::int64_t>::max())) {
        v_ = Number{static_cast<double>(i), 0, false, static_cast<std::uint64_t>(i)};
        return;
      }
    }
    const auto n = static_cast<std::int64_t>(i);
    v_ = Number{static_cast<double>(n), n, true};
  }
  template <std::floating_point T>
  JsonValue(T d) : v_(Number{static_cast<double>(d), 0, false}) {}
  JsonValue(std::string s) : v_(std::move(s)) {}
  JsonValue(std::string_view s) : v_(std::string(s)) {}
  JsonValue(const char* s) : v_(std::string(s)) {}
  JsonValue(Array a) : v_(std::move(a)) {}
  JsonValue(Object o) : v_(std::move(o)) {}
  static JsonValue array() { return JsonValue(Array{}); }
  static JsonValue object() { return JsonValue(Object{}); }

  Kind kind() const noexcept { return static_cast<Kind>(v_.index()); }
  bool is_null() const noexcept { return kind() == Kind::null; }
  bool is_bool() const noexcept { return kind() == Kind::boolean; }
  bool is_number() const noexcept { return kind() == Kind::number; }
  // True only when an exact int64 is known: an integer literal that fits, or a value built from an integer.
  bool is_integer() const noexcept { return is_number() && std::get<Number>(v_).integral; }
  bool is_string() const noexcept { return kind() == Kind::string; }
  bool is_array() const noexcept { return kind() == Kind::array; }
  bool is_object() const noexcept { return kind() == Kind::object; }

  bool as_bool() const { return get<bool>("a boolean"); }
  double as_double() const { return get<Number>("a number").value; }
  std::int64_t as_int64() const {
    if (!is_integer()) throw Error("json: expected an integer, got " + describe());
    return std::get<Number>(v_).integer;
  }
  // An exact non-negative integer up to 2^64-1: an int64 >= 0, or an integer literal above int64.
  bool is_uint64() const noexcept {
    if (!is_number()) return false;
    const Number& n = std::get<Number>(v_);
    return n.above_int64 != 0 || (n.integral && n.integer >= 0);
  }
  std::uint64_t as_uint64() const {
    if (!is_uint64()) throw Error("json: expected a non-negative integer, got " + describe());
    const Number& n = std::get<Number>(v_);
    return n.above_int64 != 0 ? n.above_int64 : static_cast<std::uint64_t>(n.integer);
  }
  const std::string& as_string() const { return get<std::string>("a string"); }
  const Array& as_array() const { return get<Array>("an array"); }
  Array& as_array() { return const_cast<Array&>(std::as_const(*this).as_array()); }
  const Object& as_object() const { return get<Object>("an object"); }
  Object& as_object() { return const_cast<Object&>(std::as_const(*this).as_object()); }

  // First member named key, or nullptr (also for non-objects), so optional fields need no exceptions.
  const JsonValue* find(std::string_view key) const {
    if (!is_object()) return nullptr;
    for (const auto& m : std::get<Object>(v_))
      if (m.first == key) return &m.second;
    return nullptr;
  }
  // Builder conveniences: null turns into an object / array on first use, as in most JSON libraries.
  JsonValue& operator[](std::string_view key) {
    if (is_null()) v_ = Object{};
    auto& obj = as_object();
    for (auto& m : obj)
      if (m.first == key) return m.second;
    obj.emplace_back(std::string(key), JsonValue());
    return obj.back().second;
  }
  void push_back(JsonValue v) {
    if (is_null()) v_ = Array{};
    as_array().push_back(std::move(v));
  }
  std::size_t size() const {
    if (is_array()) return std::get<Array>(v_).size();
    if (is_object()) return std::get<Object>(v_).size();
    throw Error("json: size() of " + describe());
  }

  // Numbers compare by exact integer when both have one, else by double; objects compare in member order.
  friend bool operator==(const JsonValue& a, const JsonValue& b) {
    if (a.kind() != b.kind()) return false;
    if (a.is_number()) {
      const auto &x = std::get<Number>(a.v_), &y = std::get<Number>(b.v_);
      if (x.above_int64 || y.above_int64) return x.above_int64 == y.above_int64;
      return (x.integral && y.integral) ? x.integer == y.integer : x.value == y.value;
    }
    return a.v_ == b.v_;
  }

  std::string describe() const {
    static constexpr const char* names[] = {"null", "a boolean", "a number", "a string", "an array", "an object"};
    return names[v_.index()];
  }

 private:
  struct Number {
    double value = 0;
    std::int64_t integer = 0;
    bool integral = false;
    std::uint64_t above_int64 = 0;  // nonzero: the exact value, an integer in (INT64_MAX, UINT64_MAX]
    bool operator==(const Number&) const = default;
  };
  template <class T>
  const T& get(const char* want) const {
    if (const T* p = std::get_if<T>(&v_)) return *p;
    throw Error(std::string("json: expected ") + want + ", got " + describe());
  }

  std::variant<std::nullptr_t, bool, Number, std::string, Array, Object> v_{nullptr};
};

}  // namespace ctnet
