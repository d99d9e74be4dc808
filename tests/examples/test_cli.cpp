// The examples' command-line parsing: bad values are clear errors naming the option.
#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <ios>
#include <iostream>
#include <new>
#include <optional>
#include <sstream>
#include <vector>

#include "../examples/common/cli.hpp"
#include "../examples/common/options.hpp"

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

TEST_CASE("an option given twice is an error, and given() tells what was on the command line") {
  int epochs = 0;
  CommandLine cli("prog", "a test program");
  cli.option("--epochs", "N", "epochs", [&](const std::string& v) { epochs = parse_number<int>("--epochs", v, 1, 9); });
  cli.flag("--fast", "go fast", [] {});
  std::ostringstream out;
  const auto parse = [&](std::vector<const char*> args) {
    args.insert(args.begin(), "prog");
    return cli.parse(int(args.size()), const_cast<char**>(args.data()), out);
  };
  CHECK_THROWS_WITH_AS(parse({"--epochs", "3", "--epochs=4"}), "ctnet: --epochs: given twice", ctnet::OptionError);
  CHECK_THROWS_WITH_AS(parse({"--fast", "--fast"}), "ctnet: --fast: given twice", ctnet::OptionError);
  CHECK(parse({"--epochs", "5"}));  // each parse starts afresh
  CHECK(cli.given("--epochs"));
  CHECK_FALSE(cli.given("--fast"));
  CHECK_THROWS_WITH_AS(examples::refuse_options(cli, {"--fast", "--epochs"}, "with --device cuda"),
                       "ctnet: --epochs: does not apply with --device cuda", ctnet::OptionError);
  CHECK_NOTHROW(examples::refuse_options(cli, {"--fast"}, "here"));
}

TEST_CASE("a number beyond the type's range says out of range, not invalid") {
  CHECK_THROWS_WITH_AS(parse_number<std::uint64_t>("--seed", "18446744073709551616", 0, UINT64_MAX),
                       "ctnet: --seed: 18446744073709551616 is out of range [0, 18446744073709551615]",
                       ctnet::OptionError);
  CHECK(parse_number<std::uint64_t>("--seed", "18446744073709551615", 0, UINT64_MAX) == UINT64_MAX);
  CHECK_THROWS_WITH_AS(parse_number<std::uint64_t>("--seed", "-1", 0, UINT64_MAX),
                       "ctnet: --seed: '-1' is not a valid integer", ctnet::OptionError);
}

TEST_CASE("guarded_main: one error line, exit 2 for usage, 1 for everything else, never an escape") {
  std::ostringstream err;
  std::streambuf* saved = std::cerr.rdbuf(err.rdbuf());
  const auto run = [&](auto body) {
    err.str("");
    return examples::guarded_main("prog", body);
  };
  const int usage = run([]() -> int { throw ctnet::OptionError("--x: bad"); });
  const std::string usage_text = err.str();
  const int data = run([]() -> int { throw ctnet::DataError("'f': truncated"); });
  const std::string data_text = err.str();
  const int memory = run([]() -> int { throw std::bad_alloc(); });
  const std::string memory_text = err.str();
  const int io = run([]() -> int { throw std::ios_base::failure("basic_ios::clear"); });
  const std::string io_text = err.str();
  const int other = run([]() -> int { throw 42; });
  const std::string other_text = err.str();
  const int fine = run([] { return 0; });
  std::cerr.rdbuf(saved);
  CHECK(usage == 2);
  CHECK(usage_text == "error: ctnet: --x: bad (see prog --help)\n");
  CHECK(data == 1);
  CHECK(data_text == "error: ctnet: 'f': truncated\n");
  CHECK(memory == 1);
  CHECK(memory_text == "error: prog: out of memory\n");
  CHECK(io == 1);
  CHECK(io_text.rfind("error: basic_ios::clear", 0) == 0);
  CHECK(other == 1);
  CHECK(other_text == "error: prog: unknown exception\n");
  CHECK(fine == 0);
}

TEST_CASE("the typed forms bind an option to its variable and name it in every message") {
  int epochs = 15;
  float rotation = 0;
  std::string schedule = "onecycle", save;
  bool graph = true;
  int checked = 0;
  CommandLine cli("prog", "a test program");
  cli.number("--epochs", "N", epochs, 1, 1000, "epochs");
  cli.number("--rotation", "DEG", rotation, 0.0f, 180.0f, "degrees");
  cli.choice("--schedule", "NAME", schedule, {"onecycle", "step"}, "schedule");
  cli.on_off("--graph", graph, "graph");
  cli.path("--save", save, "where");
  cli.check([&] { ++checked; });
  std::ostringstream out;
  const auto parse = [&](std::vector<const char*> args) {
    args.insert(args.begin(), "prog");
    return cli.parse(int(args.size()), const_cast<char**>(args.data()), out);
  };
  CHECK(parse({"--epochs", "3", "--rotation=7.5", "--schedule", "step", "--graph", "off", "--save", "m.st"}));
  CHECK(epochs == 3);
  CHECK(rotation == 7.5f);
  CHECK(schedule == "step");
  CHECK_FALSE(graph);
  CHECK(save == "m.st");
  CHECK(checked == 1);
  CHECK_THROWS_WITH_AS(parse({"--epochs", "0"}), "ctnet: --epochs: 0 is out of range [1, 1000]", ctnet::OptionError);
  CHECK_THROWS_WITH_AS(parse({"--schedule", "cosine"}), "ctnet: --schedule: 'cosine' is not one of onecycle, step",
                       ctnet::OptionError);
  CHECK_THROWS_WITH_AS(parse({"--graph", "yes"}), "ctnet: --graph: 'yes' is not one of on, off", ctnet::OptionError);
  CHECK_THROWS_WITH_AS(parse({"--save", ""}), "ctnet: --save: empty path", ctnet::OptionError);
  CHECK_THROWS_WITH_AS(parse({"--save"}), "ctnet: --save: missing value (PATH)", ctnet::OptionError);
  checked = 0;
  CHECK_FALSE(parse({"--help"}));
  CHECK(checked == 0);  // the checks run after a parse that is not --help
  CHECK(out.str().find("  --graph MODE          graph\n") != std::string::npos);
}

TEST_CASE("an example's recipe is a RunOptions value that its command line changes") {
  using examples::GpuPath;
  examples::MnistExampleConfig c;
  c.name = "prog";
  c.description = "a test program";
  c.defaults.epochs = 3;
  c.defaults.lr = 0.2;
  c.defaults.rotation = 7;
  std::ostringstream out;
  const auto parse = [&](std::vector<const char*> args, GpuPath gpu) {
    args.insert(args.begin(), "prog");
    std::streambuf* saved = std::cout.rdbuf(out.rdbuf());
    struct Restore {
      std::streambuf* saved;
      ~Restore() { std::cout.rdbuf(saved); }
    } restore{saved};
    return examples::parse_options(int(args.size()), const_cast<char**>(args.data()), c, gpu);
  };
  const std::optional<examples::RunOptions> o = parse({"--epochs", "5"}, GpuPath::none);
  REQUIRE(o);
  CHECK(o->epochs == 5);
  CHECK(o->lr == 0.2);
  CHECK(o->rotation == 7);
  CHECK(o->batch == 128);       // the generic recipe where the example says nothing
  CHECK(o->csv == "prog.csv");  // the CSV default follows the example's name
  CHECK(o->threads >= 1);       // OMP_NUM_THREADS or the cores
  CHECK(o->was_given("--epochs"));
  CHECK_FALSE(o->was_given("--lr"));
  CHECK_THROWS_WITH_AS(parse({"--device", "cuda"}, GpuPath::none), "ctnet: unknown option '--device'",
                       ctnet::OptionError);
  CHECK_THROWS_WITH_AS(parse({"--cuda-graph", "off"}, GpuPath::eager), "ctnet: unknown option '--cuda-graph'",
                       ctnet::OptionError);
  const auto g = parse({"--device", "cuda", "--cuda-graph", "off"}, GpuPath::graph);
  REQUIRE(g);
  CHECK(g->device == "cuda");
  CHECK_FALSE(g->cuda_graph);
  const std::string csv = (std::filesystem::temp_directory_path() / "ctnet_test_options.csv").string();
  CHECK_THROWS_WITH_AS(parse({"--save", csv.c_str(), "--csv", csv.c_str()}, GpuPath::none),
                       ("ctnet: --save and --csv both name '" + csv + "'").c_str(), ctnet::OptionError);
  CHECK_FALSE(parse({"--help"}, GpuPath::graph));
  const std::string help = out.str();
  CHECK(help.find("(default: 3)") != std::string::npos);
  CHECK(help.find("(0, 10] (default: 0.2)") != std::string::npos);
  CHECK(help.find("[0, 180] degrees (default: 7)") != std::string::npos);
  CHECK(help.find("'-' for none (default: prog.csv)") != std::string::npos);
  CHECK(help.find("  --cuda-graph MODE") != std::string::npos);
}
