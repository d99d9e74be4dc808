// mnist_predict: load a checkpoint saved by one of the MNIST examples and classify images.
//
//   mnist_predict --model mnist_step3_gap.safetensors digit.png other.pgm
//   mnist_predict --model mnist_step3_gap.safetensors --test 10
//
// The checkpoint records which example saved it, so the matching network type is chosen automatically; a plain
// state_dict (trained in PyTorch, written by scripts/ctnet_torch.py) goes to the network its tensors fit.
// Every input is checked before any output: each image path must be a regular file, the --test data must
// be 28x28 images with labels 0-9 and hold at least N images; --data and --invert are refused when there
// is nothing for them to act on. Any failure is one "error: ..." line (exit 2 bad usage, 1 bad input).
// Under mpirun (common/distributed.hpp) the images are shared out: rank r classifies the r-th, (r+N)-th, ...
// of the --test images and of the files, and rank 0 prints every line in order, as one process would.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <ctnet/ctnet.hpp>
#include <ctnet/data/image_file.hpp>
#include <ctnet/data/mnist.hpp>
#include <ctnet/data/transforms.hpp>
#include <ctnet/train/checkpoint.hpp>

#include "common/cli.hpp"
#include "common/mnist_example.hpp"
#include "mnist_networks.hpp"

namespace {

struct PredictOptions {
  std::string model;
  std::string data = examples::default_data_dir();
  long test = 0;
  std::string invert = "auto";
  std::vector<std::string> images;
  examples::CommonOptions common;
};

// MNIST digits are light on dark. A photo or drawing is usually dark on light: judge by the border.
bool looks_dark_on_light(const ctnet::GrayImage& img) {
  double sum = 0;
  long n = 0;
  for (int r = 0; r < img.rows; ++r)
    for (int c = 0; c < img.cols; ++c)
      if (r == 0 || c == 0 || r == img.rows - 1 || c == img.cols - 1) sum += img.pixels[std::size_t(r * img.cols + c)], ++n;
  return n > 0 && sum / double(n) > 0.5;
}

template <class Net>
int predict(const PredictOptions& o, examples::Distributed& dist) {
  using namespace ctnet;
  static_assert(Model<Net>::input_size == 784, "mnist_predict: the MNIST networks take one 28x28 image");
  Dataset test;
  if (o.test > 0) {  // read and check the data before the work starts
    test = load_mnist_split(o.data, false);
    check_fits<typename Net::input_shape_t>(test, 10);
    if (o.test > test.count)
      throw DataError("--test " + std::to_string(o.test) + ": '" + test.images_file + "' holds only " +
                      std::to_string(test.count) + " images");
  }
  Model<Net> model(0, 1);
  load_checkpoint(model, o.model);
  model.eval();
  if (dist.root()) examples::export_onnx_if_asked(o.common, model, std::cout);
  const Normalize normalize;
  std::vector<float> x(784);
  // Item i: the --test images first, then the files. Each rank fills {class, probability, inverted} of its
  // items; the sum over the ranks (the others hold zeros there) is every item's.
  const long items = o.test + long(o.images.size());
  const int ranks = dist.ranks(), rank = dist.comm().rank();
  std::vector<double> results(std::size_t(items) * 3, 0.0);
  for (long i = rank; i < items; i += ranks) {
    bool inverted = false;
    if (i < o.test) {
      for (int p = 0; p < 784; ++p) x[std::size_t(p)] = normalize(float(test.image(int(i))[p]) / 255.0f);
    } else {
      GrayImage img = read_gray_image(o.images[std::size_t(i - o.test)]);
      inverted = o.invert == "yes" || (o.invert == "auto" && looks_dark_on_light(img));
      img = resize_bilinear(img, 28, 28);
      for (int p = 0; p < 784; ++p) {
        const float v = img.pixels[std::size_t(p)];
        x[std::size_t(p)] = normalize(inverted ? 1.0f - v : v);
      }
    }
    const float* log_probs = model.forward(x.data(), 1);
    int best = 0;
    for (int k = 1; k < 10; ++k)
      if (log_probs[k] > log_probs[best]) best = k;
    results[std::size_t(i) * 3] = best;
    results[std::size_t(i) * 3 + 1] = std::exp(double(log_probs[best]));
    results[std::size_t(i) * 3 + 2] = inverted;
  }
  dist.comm().allreduce_sum_ordered(std::span<double>(results));
  if (!dist.root()) return 0;
  long right = 0;
  for (long i = 0; i < items; ++i) {
    const int best = int(results[std::size_t(i) * 3]);
    const double probability = results[std::size_t(i) * 3 + 1];
    if (i < o.test) {
      const int label = test.labels[std::size_t(i)];
      std::printf("test[%ld]: %d (probability %.4f)  label %d %s\n", i, best, probability, label,
                  label == best ? "ok" : "WRONG");
      right += label == best;
      if (i + 1 == o.test) std::printf("%ld of %ld correct\n", right, o.test);
    } else {
      std::printf("%s%s: %d (probability %.4f)\n", o.images[std::size_t(i - o.test)].c_str(),
                  results[std::size_t(i) * 3 + 2] != 0 ? " (inverted)" : "", best, probability);
    }
  }
  return 0;
}

// A file that names no example (a PyTorch state_dict from scripts/ctnet_torch.py, or a checkpoint saved by other
// code) goes to the network with the most tensors it holds by name and shape, then the fewest mismatches (whose
// error names them all); to the flagship when it holds none of anyone's.
std::string network_of_state_dict(const ctnet::SafetensorsFile& file) {
  struct Fit {
    const char* name;
    long matched;
    std::size_t misfits;
  };
  const auto fit = [&]<class Net>(const char* name) {
    using M = ctnet::Model<Net>;
    long matched = 0;
    for (const auto& named : {M::named_parameters(), M::named_buffers()})
      for (const ctnet::NamedTensor& t : named) {
        const ctnet::TensorRecord* r = file.find(t.name);
        matched += r && r->shape == std::vector<std::int64_t>(t.shape.begin(), t.shape.end());
      }
    return Fit{name, matched, ctnet::state_dict_mismatches<M>(file).count()};
  };
  std::vector<Fit> fits;  // the flagship first: it is the answer when nothing matches
  mnist::for_each_classifier(
      [&]<class Net>(const char* name) { fits.push_back(fit.template operator()<Net>(name)); });
  const Fit* best = &fits[0];
  for (const Fit& f : fits)
    if (f.matched > best->matched || (f.matched == best->matched && f.matched > 0 && f.misfits < best->misfits))
      best = &f;
  return best->name;
}

int run(int argc, char** argv, examples::Distributed& dist) {
  PredictOptions o;
  examples::CommandLine cli("mnist_predict [options] [IMAGE.png|IMAGE.pgm ...]",
                            "Classify handwritten digits with a checkpoint saved by an MNIST example (--save).\n"
                            "Images of any size are converted to gray and resized to 28x28.");
  cli.option("--model", "PATH", "checkpoint to load (required)", [&](const std::string& v) { o.model = v; });
  cli.number(
      "--test", "N", o.test, 1L, 10000L,
      "classify the first N MNIST test images and compare with their labels (default: " + std::to_string(o.test) + ")");
  cli.option("--data", "DIR", "MNIST directory for --test (default: " + o.data + ")",
             [&](const std::string& v) { o.data = v; });
  cli.choice("--invert", "MODE", o.invert, {"auto", "yes", "no"},
             "auto, yes or no: turn dark-on-light images into MNIST's light-on-dark (default: " + o.invert +
                 ", judged by the border)");
  examples::add_common_options(cli, o.common);
  // Positional arguments are images; options are handled by the parser.
  std::vector<char*> args{argv[0]};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--", 0) == 0 || a == "-h") {
      args.push_back(argv[i]);
      if (a.find('=') == std::string::npos && a != "--help" && a != "-h" && i + 1 < argc) args.push_back(argv[++i]);
    } else {
      o.images.push_back(a);
    }
  }
  if (!cli.parse(int(args.size()), args.data(), std::cout)) return 0;
  if (o.model.empty()) throw ctnet::OptionError("--model PATH is required");
  if (o.images.empty() && o.test == 0 && o.common.export_onnx.empty())
    throw ctnet::OptionError("nothing to do: give image files, --test N or --export-onnx PATH");
  if (o.test == 0) examples::refuse_options(cli, {"--data"}, "without --test");
  if (o.images.empty()) examples::refuse_options(cli, {"--invert"}, "without image files");
  for (const std::string& path : o.images) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::file_status st = fs::status(path, ec);
    if (!fs::exists(st)) throw ctnet::DataError("image file '" + path + "' not found");
    if (fs::is_directory(st)) throw ctnet::DataError("'" + path + "' is a directory, not an image file");
    if (!fs::is_regular_file(st)) throw ctnet::DataError("'" + path + "' is not a regular file (a PNG or PGM image)");
  }

  const ctnet::SafetensorsFile file = ctnet::load_safetensors(o.model);
  const auto it = file.metadata.find("user.example");
  const std::string example = it != file.metadata.end() ? it->second : network_of_state_dict(file);
  if (const std::optional<int> status =
          mnist::with_classifier(example, [&]<class Net>() { return predict<Net>(o, dist); }))
    return *status;
  throw ctnet::CheckpointError("'" + o.model + "' was saved by '" + example + "', which mnist_predict does not know");
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<examples::Distributed> dist;
  const int status = examples::guarded_main("mnist_predict", [&] {
    dist.emplace(argc, argv);
    return run(argc, argv, *dist);
  });
  return dist ? dist->finish(status) : status;
}
