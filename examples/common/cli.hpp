// examples/common/cli.hpp — strict command-line options for the example programs.
//
// Requires: C++20. Guarantees: every option is validated (number syntax, range, choice) and a bad one throws
// ctnet::OptionError naming the option, the value and what is allowed; an option given twice is an error,
// not "the last one wins"; --help text states each default; the typed forms (number, choice, on_off, path)
// take an option's name once and bind it to the variable that holds its value. guarded_main runs a program's
// body and turns whatever it throws into exactly one "error: ..." line on stderr: exit 2 for bad usage
// (OptionError), 1 for everything else (bad data, checkpoints, I/O, out of memory), so no program aborts.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <exception>
#include <functional>
#include <iostream>
#include <limits>
#include <new>
#include <string>
#include <vector>

#include <ctnet/core/error.hpp>

#include "compiled.hpp"

namespace examples {

template <class Number>
Number parse_number(const std::string& option, const std::string& text, Number lo, Number hi) {
  Number value{};
  const char* first = text.data();
  const char* last = text.data() + text.size();
  const auto [end, ec] = std::from_chars(first, last, value);
  const auto range = [&] { return " is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]"; };
  if (ec == std::errc::result_out_of_range && end == last) throw ctnet::OptionError(option + ": " + text + range());
  if (text.empty() || ec != std::errc() || end != last)
    throw ctnet::OptionError(option + ": '" + text + "' is not a valid " +
                             (std::is_integral_v<Number> ? "integer" : "number"));
  if (!(value >= lo && value <= hi))
    throw ctnet::OptionError(option + ": " + text + range());
  return value;
}

// `text` when it is one of `choices`; otherwise OptionError "OPTION: 'TEXT' is not one of A, B".
CTNET_EXAMPLES_COLD std::string parse_choice(const std::string& option, const std::string& text,
                                             const std::vector<std::string>& choices);

// A small declarative parser: each option has a name, a help line (with its default) and a setter. The
// typed forms write the parsed value into `field`, which must outlive the parse.
class CommandLine {
 public:
  CommandLine(std::string program, std::string description)
      : program_(std::move(program)), description_(std::move(description)) {}

  void option(const std::string& name, const std::string& value_name, const std::string& help,
              std::function<void(const std::string&)> set) {
    options_.push_back({name, value_name, help, std::move(set)});
  }
  void flag(const std::string& name, const std::string& help, std::function<void()> set) {
    options_.push_back({name, "", help, [set = std::move(set)](const std::string&) { set(); }});
  }
  template <class Number>
  void number(const std::string& name, const std::string& value_name, Number& field, Number lo, Number hi,
              const std::string& help) {
    option(name, value_name, help,
           [&field, name, lo, hi](const std::string& v) { field = parse_number<Number>(name, v, lo, hi); });
  }
  void choice(const std::string& name, const std::string& value_name, std::string& field,
              std::vector<std::string> choices, const std::string& help) {
    option(name, value_name, help, [&field, name, choices = std::move(choices)](const std::string& v) {
      field = parse_choice(name, v, choices);
    });
  }
  // MODE on or off.
  void on_off(const std::string& name, bool& field, const std::string& help) {
    option(name, "MODE", help, [&field, name](const std::string& v) {
      field = parse_choice(name, v, {"on", "off"}) == "on";
    });
  }
  // A PATH that must not be empty.
  void path(const std::string& name, std::string& field, const std::string& help) {
    option(name, "PATH", help, [&field, name](const std::string& v) {
      if (v.empty()) throw ctnet::OptionError(name + ": empty path");
      field = v;
    });
  }
  // Runs after every parse that is not --help, in the order added: for a check that needs the whole command
  // line or a default (two options that must not name one file, an output path that is not given).
  void check(std::function<void()> f) { checks_.push_back(std::move(f)); }

  // Returns false when --help was given (the usage has been printed).
  bool parse(int argc, char** argv, std::ostream& out);

  // Whether `name` was on the command line (so an option that does not apply can be refused).
  bool given(const std::string& name) const { return std::find(given_.begin(), given_.end(), name) != given_.end(); }
  const std::vector<std::string>& given_names() const { return given_; }

  void usage(std::ostream& out) const;

 private:
  struct Option {
    std::string name, value_name, help;
    std::function<void(const std::string&)> set;
  };
  const Option* find(const std::string& name) const {
    for (const Option& o : options_)
      if (o.name == name) return &o;
    return nullptr;
  }
  std::string program_, description_;
  std::vector<Option> options_;
  std::vector<std::function<void()>> checks_;
  std::vector<std::string> given_;
};

// Throws OptionError unless none of `options` was given: they do not apply to what the program was asked
// to do (`why`, e.g. "with --device cpu").
CTNET_EXAMPLES_COLD void refuse_options(const CommandLine& cli, const std::vector<std::string>& options,
                                        const std::string& why);

// The one error line every program ends with when it fails. OptionError: bad usage (2, with a pointer
// to --help); any other exception: bad input or a failure of the machine (1).
template <class Body>
int guarded_main(const std::string& program, Body&& body) noexcept {
  try {
    try {
      return body();
    } catch (const ctnet::OptionError& e) {
      // Each line in one write: the ranks of an mpirun job share the terminal.
      std::cerr << "error: " + std::string(e.what()) + " (see " + program + " --help)\n" << std::flush;
      return 2;
    } catch (const std::bad_alloc&) {
      std::cerr << "error: " << program << ": out of memory" << std::endl;
      return 1;
    } catch (const std::exception& e) {
      std::cerr << "error: " + std::string(e.what()) + "\n" << std::flush;
      return 1;
    } catch (...) {
      std::cerr << "error: " << program << ": unknown exception" << std::endl;
      return 1;
    }
  } catch (...) {  // writing the message itself failed: still no abort
    return 1;
  }
}

}  // namespace examples

#if CTNET_EXAMPLES_COLD_BODIES
namespace examples {

CTNET_EXAMPLES_COLD bool CommandLine::parse(int argc, char** argv, std::ostream& out) {
  given_.clear();
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      usage(out);
      return false;
    }
    std::string value;
    bool has_inline_value = false;
    if (const auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_inline_value = true;
    }
    const Option* opt = find(arg);
    if (!opt) throw ctnet::OptionError("unknown option '" + arg + "'");
    if (given(arg)) throw ctnet::OptionError(arg + ": given twice");
    given_.push_back(arg);
    if (!opt->value_name.empty() && !has_inline_value) {
      if (i + 1 >= argc) throw ctnet::OptionError(arg + ": missing value (" + opt->value_name + ")");
      value = argv[++i];
    } else if (opt->value_name.empty() && has_inline_value) {
      throw ctnet::OptionError(arg + " takes no value");
    }
    opt->set(value);
  }
  for (const auto& check : checks_) check();
  return true;
}

CTNET_EXAMPLES_COLD void CommandLine::usage(std::ostream& out) const {
  out << "usage: " << program_ << " [options]\n\n" << description_ << "\n\noptions:\n";
  for (const Option& o : options_) {
    std::string head = "  " + o.name + (o.value_name.empty() ? "" : " " + o.value_name);
    if (head.size() < 24) head.resize(24, ' ');
    else head += "\n" + std::string(24, ' ');
    out << head << o.help << '\n';
  }
  out << "  --help, -h              show this help\n";
}

CTNET_EXAMPLES_COLD std::string parse_choice(const std::string& option, const std::string& text,
                                             const std::vector<std::string>& choices) {
  if (std::find(choices.begin(), choices.end(), text) != choices.end()) return text;
  std::string list;
  for (const std::string& c : choices) list += (list.empty() ? "" : ", ") + c;
  throw ctnet::OptionError(option + ": '" + text + "' is not one of " + list);
}

CTNET_EXAMPLES_COLD void refuse_options(const CommandLine& cli, const std::vector<std::string>& options,
                                        const std::string& why) {
  for (const std::string& name : options)
    if (cli.given(name)) throw ctnet::OptionError(name + ": does not apply " + why);
}

}  // namespace examples
#endif  // CTNET_EXAMPLES_COLD_BODIES
