// output_file_problem and save_safetensors' target check: only a regular file (or nothing) in a writable
// directory may be written; directories, FIFOs, devices and symbolic links are refused and left alone.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctnet/core/output_file.hpp>
#include <ctnet/train/safetensors.hpp>
#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("ctnet_test_output_file_" + std::to_string(::getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

void save_one(const std::string& path) {
  const float v[2] = {1, 2};
  ctnet::save_safetensors(path, {{"w", "F32", {2}, v, sizeof v}});
}

}  // namespace

TEST_CASE("output_file_problem: what may be written") {
  const TempDir dir;
  CHECK(ctnet::output_file_problem(dir / "new.safetensors").empty());
  std::ofstream(dir / "old.csv") << "x\n";
  CHECK(ctnet::output_file_problem(dir / "old.csv").empty());
  CHECK(ctnet::output_file_problem("relative-name-in-cwd.csv").empty());
  CHECK(ctnet::output_file_problem("") == "empty output path");
  CHECK(ctnet::output_file_problem(dir.path.string()) == "'" + dir.path.string() + "' is a directory, not a file");
  CHECK(ctnet::output_file_problem(dir / "no/such/x.csv") ==
        "directory '" + (dir / "no/such") + "' (of '" + (dir / "no/such/x.csv") + "') does not exist");
  CHECK(ctnet::output_file_problem((dir / "old.csv") + "/x") ==
        "'" + (dir / "old.csv") + "' (in '" + (dir / "old.csv") + "/x') is not a directory");
  REQUIRE(::mkfifo((dir / "fifo").c_str(), 0600) == 0);
  CHECK(ctnet::output_file_problem(dir / "fifo") ==
        "'" + (dir / "fifo") + "' exists and is not a regular file (a device, FIFO or socket); refusing to replace it");
  CHECK(ctnet::output_file_problem("/dev/null").find("is not a regular file") != std::string::npos);
  fs::create_symlink(dir / "old.csv", dir / "link");
  CHECK(ctnet::output_file_problem(dir / "link") == "'" + (dir / "link") + "' is a symbolic link to '" +
                                                         (dir / "old.csv") +
                                                         "'; output is not written through links, give the file "
                                                         "itself");
  fs::create_symlink(dir / "missing", dir / "dangling");
  CHECK(ctnet::output_file_problem(dir / "dangling").find("is a symbolic link") != std::string::npos);
}

TEST_CASE("save_safetensors replaces a regular file and refuses anything else, leaving it as it was") {
  const TempDir dir;
  save_one(dir / "m.safetensors");
  save_one(dir / "m.safetensors");  // replacing a regular file is the normal case
  CHECK(ctnet::load_safetensors(dir / "m.safetensors").tensors.size() == 1);

  REQUIRE(::mkfifo((dir / "fifo").c_str(), 0600) == 0);
  CHECK_THROWS_WITH_AS(save_one(dir / "fifo"),
                       doctest::Contains("exists and is not a regular file (a device, FIFO or socket)"),
                       ctnet::CheckpointError);
  CHECK(fs::is_fifo(dir / "fifo"));
  CHECK_FALSE(fs::exists(dir / "fifo.tmp"));

  fs::create_directory(dir / "d");
  CHECK_THROWS_WITH_AS(save_one(dir / "d"), doctest::Contains("is a directory, not a file"), ctnet::CheckpointError);
  CHECK(fs::is_directory(dir / "d"));

  fs::create_symlink(dir / "m.safetensors", dir / "link");
  CHECK_THROWS_WITH_AS(save_one(dir / "link"), doctest::Contains("is a symbolic link"), ctnet::CheckpointError);
  CHECK(fs::is_symlink(dir / "link"));

  // The temporary is checked too: a FIFO there would block the open, a link would be written through.
  REQUIRE(::mkfifo((dir / "n.safetensors.tmp").c_str(), 0600) == 0);
  CHECK_THROWS_WITH_AS(save_one(dir / "n.safetensors"), doctest::Contains("n.safetensors.tmp' exists and is not"),
                       ctnet::CheckpointError);
  CHECK(fs::is_fifo(dir / "n.safetensors.tmp"));
  CHECK_THROWS_WITH_AS(save_one("/dev/null"), doctest::Contains("'/dev/null' exists and is not a regular file"),
                       ctnet::CheckpointError);
}
