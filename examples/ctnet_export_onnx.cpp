// ctnet_export_onnx: write an MNIST example's network as an ONNX model (opset 17, dynamic batch).
//
//   ctnet_export_onnx --checkpoint mnist_step3_gap.safetensors step3.onnx   # a saved model (--save)
//   ctnet_export_onnx --network mnist_step3_gap [--seed S] step3.onnx       # untrained, seeded
//
// A checkpoint names the example that saved it (metadata user.example, and user.sum_loss for the adder),
// so the network type is chosen as mnist_predict chooses it; --network names it directly (the example
// names, or "reference"). The adder's graph has inputs "image" and "number" and outputs "digit" and "sum";
// the others "input" and "output" (log-probabilities, as predict() gives). Built only with ctnet::onnx.
// Any failure is one "error: ..." line: exit 2 for bad usage, 1 for a bad checkpoint or output path.
#include <cstdint>
#include <iostream>
#include <optional>
#include <string>
#include <type_traits>

#include <ctnet/ctnet.hpp>
#include <ctnet/export/onnx.hpp>

#include "mnist_networks.hpp"

namespace {

using namespace ctnet;

struct Request {
  std::string checkpoint, network, out;
  std::uint64_t seed = 1;
};

template <class Net>
int export_network(const Request& r, const OnnxExportOptions& options = {}) {
  Model<Net> model(r.seed, 1);
  if (!r.checkpoint.empty()) load_checkpoint(model, r.checkpoint);
  export_onnx(model, r.out, options);
  std::cout << "wrote " << r.out << " (" << r.network << ", "
            << (r.checkpoint.empty() ? "seed " + std::to_string(r.seed) + ", untrained" : "from " + r.checkpoint)
            << ")\n";
  return 0;
}

int dispatch(const Request& r) {
  const std::optional<int> status = mnist::with_network(r.network, [&]<class Net>() {
    constexpr bool adder = std::is_same_v<Net, mnist::Adder> || std::is_same_v<Net, mnist::AdderMse>;
    if constexpr (adder)
      return export_network<Net>(r, {.input_names = {"image", "number"}, .output_names = {"digit", "sum"}});
    else
      return export_network<Net>(r);
  });
  if (status) return *status;
  if (!r.checkpoint.empty())
    throw CheckpointError("'" + r.checkpoint + "' was saved by '" + r.network + "', which ctnet_export_onnx does not know");
  throw OptionError("--network '" + r.network + "': one of " + mnist::network_names);
}

int run(int argc, char** argv) {
  Request r;
  bool seed_given = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw OptionError(a + " needs a value");
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      std::cout << "usage: ctnet_export_onnx (--checkpoint FILE | --network NAME [--seed S]) OUT.onnx\n";
      return 0;
    } else if (a == "--checkpoint" && r.checkpoint.empty()) {
      r.checkpoint = value();
    } else if (a == "--network" && r.network.empty()) {
      r.network = value();
    } else if (a == "--seed" && !seed_given) {
      const std::string v = value();
      if (v.empty() || v.size() > 19 || v.find_first_not_of("0123456789") != std::string::npos)
        throw OptionError("--seed '" + v + "': a whole number");
      r.seed = std::stoull(v);
      seed_given = true;
    } else if (a.starts_with("-") || !r.out.empty()) {
      throw OptionError("unexpected argument '" + a + "' (or given twice)");
    } else {
      r.out = a;
    }
  }
  if (r.out.empty()) throw OptionError("no output file given");
  if (r.checkpoint.empty() == r.network.empty()) throw OptionError("give exactly one of --checkpoint and --network");
  if (!r.checkpoint.empty() && seed_given) throw OptionError("--seed is for --network (a checkpoint has its values)");
  if (!r.checkpoint.empty()) {
    const SafetensorsFile file = load_safetensors(r.checkpoint);
    const auto meta = [&](const std::string& key) {
      const auto it = file.metadata.find(key);
      return it == file.metadata.end() ? std::string() : it->second;
    };
    r.network = meta("user.example").empty() ? "mnist_step3_gap" : meta("user.example");
    if (r.network == "mnist_adder" && meta("user.sum_loss") == "mse") r.network = "mnist_adder_mse";
  }
  return dispatch(r);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const OptionError& e) {
    std::cerr << "error: " << e.what() << " (see ctnet_export_onnx --help)\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
