// ctnet_torch_check: ctnet's side of the PyTorch interchange tests (tests/torch/test_torch.py).
//
//   ctnet_torch_check save NET PATH SEED            a checkpoint of NET with random parameters, statistics, step
//   ctnet_torch_check forward NET MODEL IN OUT N    load MODEL (checkpoint or plain state_dict), predict N samples
//   ctnet_torch_check architecture NET              print NET's architecture text (checkpoint metadata)
//
// IN and OUT are raw little-endian float32, laid out as ctnet lays out batches: [N x input] per input, inputs
// one after another (outputs likewise, head after head). NET: one of the names in with_network below. Any
// failure is one "error: ..." line, exit 1 (2 for bad usage).
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <optional>

#include <ctnet/ctnet.hpp>
#include <ctnet/train/checkpoint.hpp>

#include "../../examples/common/cli.hpp"
#include "../../examples/mnist_networks.hpp"
#include "torch_nets.hpp"

namespace {

template <class F>
int with_network(const std::string& name, F&& f) {
  if (const std::optional<int> status = mnist::with_network(name, f)) return *status;
  if (name == "zoo") return f.template operator()<torch_tests::Zoo>();
  throw ctnet::OptionError("unknown network '" + name + "'");
}

std::vector<float> read_floats(const std::string& path, std::size_t count) {
  std::ifstream in(path, std::ios::binary);
  std::vector<float> v(count);
  if (!in.read(reinterpret_cast<char*>(v.data()), std::streamsize(count * sizeof(float))))
    throw ctnet::DataError("'" + path + "' holds fewer than " + std::to_string(count) + " floats");
  return v;
}

int run(const std::vector<std::string>& a) {
  if (a.size() == 2 && a[0] == "architecture")
    return with_network(a[1], []<class Net>() {
      std::cout << ctnet::architecture_text<Net>();
      return 0;
    });
  if (a.size() == 4 && a[0] == "save")
    return with_network(a[1], [&]<class Net>() {
      const auto seed = examples::parse_number<std::uint64_t>("SEED", a[3], 0, 1'000'000);
      ctnet::Model<Net> m(seed, 4);
      // Trained-looking state: parameters scaled and shifted from PyTorch's initialisation (so activations
      // keep their scale), running statistics away from 0 and 1, a step count.
      ctnet::Generator g(seed, ctnet::RngStream::user);
      for (float& p : m.parameters()) p = float(p * g.uniform(0.5, 2.0) + g.uniform(-0.05, 0.05));
      for (const ctnet::NamedTensor& t : ctnet::Model<Net>::named_buffers())
        for (long i = 0; i < t.size; ++i)
          m.buffers()[std::size_t(t.offset + i)] =
              float(t.name.ends_with("running_var") ? g.uniform(0.3, 1.5) : g.uniform(-0.3, 0.3));
      m.set_step(seed + 17);
      ctnet::save_checkpoint(m, a[2], {{{"example", a[1]}}, {}});
      return 0;
    });
  if (a.size() == 6 && a[0] == "forward")
    return with_network(a[1], [&]<class Net>() {
      using M = ctnet::Model<Net>;
      const long n = examples::parse_number<long>("N", a[5], 1, 10000);
      M m(0, 1, n);
      ctnet::load_checkpoint(m, a[2]);
      const std::vector<float> x = read_floats(a[3], std::size_t(n * M::input_size));
      const float* y = m.predict(x.data(), n);
      std::ofstream out(a[4], std::ios::binary);
      out.write(reinterpret_cast<const char*>(y), std::streamsize(n * M::output_size * sizeof(float)));
      if (!out.flush()) throw ctnet::Error("cannot write '" + a[4] + "'");
      return 0;
    });
  throw ctnet::OptionError("usage: ctnet_torch_check save NET PATH SEED | forward NET MODEL IN OUT N | architecture NET");
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  return examples::guarded_main("ctnet_torch_check", [&] { return run(args); });
}
