// mnist_adder --device cuda: mnist::Adder / AdderMse trained by Model<Net, Cuda> (nvcc only; no Eigen).
//
// The same recipe, sample order, augmentation draws, digit pairing, per-epoch line, CSV and JSON line as
// the CPU path in mnist_adder.cpp (plus "device":"cuda" and "gpu"): batches come from the CPU DataLoader
// and are uploaded; the network (conv tower, one-hot, two heads, concat) runs on the device; the two
// heads' losses (MultiTaskLoss: NLL, or MSE for --sum-loss mse) are computed on the host from the
// downloaded outputs (29 or 11 values per sample) and the gradient is uploaded back; SGD runs on the device.
// So this path is eager (no CUDA graph) and the dropout masks are the CPU's, step for step.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <vector>

// mnist_cuda.cuh first: it brings Model (NamedTensor) before train/checkpoint.hpp, which needs it.
#include "mnist_cuda.cuh"

#include <ctnet/core/json.hpp>
#include <ctnet/data/paired_digits.hpp>
#include <ctnet/train/checkpoint.hpp>
#include <ctnet/train/multitask.hpp>
#include <ctnet/train/schedule.hpp>

#include "../common/mnist_data.hpp"
#include "../mnist_models.hpp"

namespace examples {
namespace {

using namespace ctnet;

struct AdderMetrics {
  double loss = 0, digit_loss = 0, sum_loss = 0;
  long digit_correct = 0, sum_correct = 0, total = 0;
  double digit() const { return total ? double(digit_correct) / double(total) : 0; }
  double sum() const { return total ? double(sum_correct) / double(total) : 0; }
};

template <class Net>
int adder_on_cuda(const RunOptions& o, const MnistExampleConfig& c, bool mse) {
  using M = Model<Net, Cuda, float>;
  constexpr long outputs = Net::output_shape_t::size;
  if (!cuda_run::require_device("--device cuda")) return 1;
  const std::string gpu = cuda_run::device_name();
  std::cout << c.description << "\n\n";
  summary<Net>(std::cout);
  const MnistSplits data = load_splits(o);
  DataLoader train_loader(data.train, train_loader_options(o)), test_loader(data.test, test_loader_options());

  std::cout << "\ndata: " << data.train.count << " training and " << data.test.count
            << " test images, each paired with a "
            << "random digit (fresh pairing each training epoch, fixed pairing for the test set)\nsum loss: "
            << (mse ? "MSE on one output, rounded" : "NLL over 19 classes") << "; OneCycleLR max_lr " << o.lr
            << ", batch " << o.batch << ", seed " << o.seed << ", GPU " << gpu
            << " (eager: the heads' losses run on the host)\n\n";

  M model(o.seed, o.batch, test_batch);
  const MultiTaskLoss loss = MultiTaskLoss::for_output<typename Net::output_shape_t>(
      {{"digit", TaskLoss::nll, 10, 1.0}, {"sum", mse ? TaskLoss::mse : TaskLoss::nll, mse ? 1 : 19, 1.0}});
  cuda::SGD<float> sgd(typename cuda::SGD<float>::Options{o.lr, c.momentum, 0, o.weight_decay, false},
                       std::size_t(M::parameter_count));
  OneCycleLR::Options oc;
  oc.max_lr = o.lr;
  oc.total_steps = long(train_loader.batches_per_epoch()) * o.epochs;
  oc.pct_start = 0.25;
  oc.cycle_momentum = false;
  const OneCycleLR schedule(oc);

  std::vector<float> x(std::size_t(test_batch) * 785), grad(std::size_t(o.batch) * outputs),
      out(std::size_t(test_batch) * outputs);
  cuda::Buffer<float> grad_device(grad.size());
  std::vector<int> sums(test_batch);
  std::vector<float> sum_values(test_batch);
  // The batch laid out as the network's inputs: [n x 784] images, then [n x 1] digits; fills targets.
  const auto prepare = [&](const Batch& b, auto&& digit_of) {
    std::copy(b.images.begin(), b.images.begin() + long(b.size) * 784, x.begin());
    for (int s = 0; s < b.size; ++s) {
      const int r = digit_of(b.indices[std::size_t(s)]);
      x[std::size_t(b.size) * 784 + std::size_t(s)] = float(r);
      sums[std::size_t(s)] = b.labels[std::size_t(s)] + r;
      sum_values[std::size_t(s)] = float(sums[std::size_t(s)]);
    }
    return std::vector<TaskTargets>{{b.labels.data(), nullptr}, {sums.data(), sum_values.data()}};
  };
  // The device output of the last forward, on the host.
  const auto fetch = [&](const float* device_out, int n) {
    cuda::synchronize();
    CTNET_CUDA_CHECK(cudaMemcpyAsync(out.data(), device_out, std::size_t(n) * outputs * sizeof(float),
                                     cudaMemcpyDeviceToHost, cuda::stream()),
                     "copying the heads' outputs to the host");
    cuda::synchronize();
    return out.data();
  };
  const auto account = [&](AdderMetrics& m, const float* host_out, int n, const std::vector<TaskTargets>& t) {
    const MultiTaskResult r = loss.forward(host_out, n, t);
    const std::vector<long> correct = loss.correct(host_out, n, t);
    m.loss += r.total * n;
    m.digit_loss += r.parts[0] * n;
    m.sum_loss += r.parts[1] * n;
    m.digit_correct += correct[0];
    m.sum_correct += correct[1];
    m.total += n;
  };

  ProgressBar progress(std::cout, progress_mode(o));
  std::ofstream csv;
  if (o.csv != "-") {
    csv.open(o.csv);
    if (!csv) throw OptionError("--csv: cannot write '" + o.csv + "'");
    csv << "epoch,train_loss,train_digit_accuracy,train_sum_accuracy,test_loss,test_digit_loss,test_sum_loss,"
           "test_digit_accuracy,test_sum_accuracy,lr,seconds\n";
  }
  const auto start = std::chrono::steady_clock::now();
  JsonValue digit_list = JsonValue::array(), sum_list = JsonValue::array();
  double best_digit = 0, best_sum = 0, last_digit = 0, last_sum = 0;
  long step = 0;
  Batch batch;
  for (int epoch = 1; epoch <= o.epochs; ++epoch) {
    const auto epoch_start = std::chrono::steady_clock::now();
    const std::string label = "epoch " + std::to_string(epoch) + "/" + std::to_string(o.epochs);
    AdderMetrics tr;
    double lr = 0;
    model.train();
    train_loader.start_epoch(epoch);
    progress.start(label, train_loader.batches_per_epoch());
    long done = 0;
    while (train_loader.next(batch)) {
      lr = schedule.lr_at(step++);
      sgd.set_lr(lr);
      const auto targets = prepare(batch, [&](int index) { return paired_digit(o.seed, std::uint64_t(epoch), index); });
      const float* host_out = fetch(model.forward(x.data(), batch.size), batch.size);
      account(tr, host_out, batch.size, targets);
      loss.backward(host_out, batch.size, targets, grad.data());
      grad_device.upload(grad.data(), std::size_t(batch.size) * outputs);
      model.zero_grad();
      model.backward(grad_device.data());
      sgd.step(model.parameter_data(), model.gradient_data());
      progress.update(++done, tr.total, tr.loss / double(tr.total), tr.sum());
    }
    AdderMetrics te;
    test_loader.start_epoch(0);
    while (test_loader.next(batch)) {
      const auto targets = prepare(batch, [](int index) { return test_paired_digit(index); });
      account(te, fetch(model.predict(x.data(), batch.size), batch.size), batch.size, targets);
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start).count();
    last_digit = te.digit();
    last_sum = te.sum();
    best_digit = std::max(best_digit, last_digit);
    best_sum = std::max(best_sum, last_sum);
    digit_list.push_back(std::round(last_digit * 1e6) / 1e4);
    sum_list.push_back(std::round(last_sum * 1e6) / 1e4);
    const double n = double(te.total);
    char line[320];
    std::snprintf(line, sizeof line,
                  "%s  train loss %.4f digit %s sum %s  test loss %.4f (digit %.4f, sum %.4f) digit %s sum %s  "
                  "lr %.5f  %.1f s",
                  label.c_str(), tr.loss / double(tr.total), percent(tr.digit()).c_str(), percent(tr.sum()).c_str(),
                  te.loss / n, te.digit_loss / n, te.sum_loss / n, percent(last_digit).c_str(),
                  percent(last_sum).c_str(), lr, seconds);
    std::cout << line << std::endl;
    if (csv)
      csv << epoch << ',' << tr.loss / double(tr.total) << ',' << tr.digit() << ',' << tr.sum() << ',' << te.loss / n
          << ',' << te.digit_loss / n << ',' << te.sum_loss / n << ',' << last_digit << ',' << last_sum << ',' << lr
          << ',' << seconds << '\n'
          << std::flush;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "\nbest test accuracy: digit " << percent(best_digit) << ", sum " << percent(best_sum)
            << "; last: digit " << percent(last_digit) << ", sum " << percent(last_sum) << "\n";
  if (!o.save.empty()) {
    save_checkpoint(model, o.save, {{{"example", c.name}, {"sum_loss", mse ? "mse" : "nll"}}, {}});
    std::cout << "saved " << o.save << "\n";
  }
  JsonValue j = JsonValue::object();
  j["example"] = c.name;
  j["parameters"] = Net::parameter_count;
  j["epochs"] = o.epochs;
  j["seed"] = o.seed;
  j["device"] = "cuda";
  j["gpu"] = gpu;
  j["sum_loss"] = mse ? "mse" : "nll";
  j["digit_accuracy"] = digit_list;
  j["sum_accuracy"] = sum_list;
  j["best_digit"] = std::round(best_digit * 1e6) / 1e4;
  j["best_sum"] = std::round(best_sum * 1e6) / 1e4;
  j["last_digit"] = std::round(last_digit * 1e6) / 1e4;
  j["last_sum"] = std::round(last_sum * 1e6) / 1e4;
  j["seconds"] = std::round(seconds * 10) / 10;
  std::cout << to_json(j) << std::endl;
  return 0;
}

}  // namespace

int run_adder_on_cuda(const RunOptions& options, const MnistExampleConfig& config, bool mse) try {
  return mse ? adder_on_cuda<mnist::AdderMse>(options, config, true)
             : adder_on_cuda<mnist::Adder>(options, config, false);
} catch (const OptionError& e) {
  std::cerr << "error: " << e.what() << "\n(see mnist_adder --help)\n";
  return 2;
} catch (const Error& e) {
  std::cerr << "error: " << e.what() << "\n";
  return 1;
}

}  // namespace examples

extern "C" const examples::CudaModule ctnet_examples_cuda_module{examples::cuda_module_layout, nullptr,
                                                                 examples::run_adder_on_cuda, nullptr};
