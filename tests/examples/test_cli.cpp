// The examples' command-line parsing: bad values are clear errors naming the option.
#include <doctest/doctest.h>

#include <sstream>
#include <vector>

#include "../examples/common/cli.hpp"

using examples::CommandLine;
using examples::parse_number;

TEST_CASE("numbers are parsed strictly and range-checked") {
  CHECK(parse_number<int>("--epochs", "15", 1, 1000) == 15);
  CHECK(parse_number<double>("--lr", "0.05", 0, 10) == doctest::Approx(0.05));
  CHECK_THROWS_WITH_AS(parse_number<int>("--epochs", "0", 1, 1000), doctest::Contains("--epochs: 0 is out of range"),
                       ctnet::OptionError);
  CHECK_THROWS_WITH_AS(parse_number<int>("--batch", "12x", 1, 4096),
                       doctest::Contains("--batch: '12x' is not a valid integer"), ctnet::OptionError);
  CHECK_THROWS_AS(parse_number<int>("--batch", "", 1, 4096), ctnet::OptionError);
  CHECK_THROWS_AS(parse_number<double>("--lr", "nan", 0, 10), ctnet::OptionError);
  CHECK_THROWS_AS(parse_number<int>("--threads", "-2", 1, 256), ctnet::OptionError);
}

TEST_CASE("unknown options, missing values and --help") {
  int epochs = 0;
  bool flag = false;
  CommandLine cli("prog", "a test program");
  cli.option("--epochs", "N", "epochs (default: 15)", [&](const std::string& v) {
    epochs = parse_number<int>("--epochs", v, 1, 1000);
  });
  cli.flag("--fast", "go fast", [&] { flag = true; });
  std::ostringstream out;
  const auto parse = [&](std::vector<const char*> args) {
    args.insert(args.begin(), "prog");
    return cli.parse(int(args.size()), const_cast<char**>(args.data()), out);
  };
  CHECK(parse({"--epochs", "3", "--fast"}));
  CHECK(epochs == 3);
  CHECK(flag);
  CHECK(parse({"--epochs=7"}));
  CHECK(epochs == 7);
  CHECK_THROWS_WITH_AS(parse({"--epoch", "3"}), doctest::Contains("unknown option '--epoch'"), ctnet::OptionError);
  CHECK_THROWS_WITH_AS(parse({"--epochs"}), doctest::Contains("--epochs: missing value"), ctnet::OptionError);
  CHECK_THROWS_WITH_AS(parse({"--fast=1"}), doctest::Contains("--fast takes no value"), ctnet::OptionError);
  CHECK_FALSE(parse({"--help"}));
  CHECK(out.str().find("epochs (default: 15)") != std::string::npos);
}
