// The CTNET_HD bodies of backend/common that the CUDA backend runs, exercised on the host against the CPU
// backend, the losses, metrics, SGD and DataLoader (DESIGN principle 8): where the CUDA kernels gather
// (col2im, pooling backward) the bodies must equal the CPU's scatter bit for bit; elsewhere they are the
// same functions the CPU calls, or follow the same rules as train/ and data/.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include <ctnet/backend/common/conv.hpp>
#include <ctnet/backend/common/data.hpp>
#include <ctnet/backend/common/loss.hpp>
#include <ctnet/backend/common/norm.hpp>
#include <ctnet/backend/common/optimizer.hpp>
#include <ctnet/backend/common/pool.hpp>
#include <ctnet/backend/common/softmax.hpp>
#include <ctnet/ctnet.hpp>
#include <ctnet/data/loader.hpp>
#include <ctnet/train/loss.hpp>
#include <ctnet/train/metrics.hpp>
#include <ctnet/train/optimizer.hpp>

using namespace ctnet;

namespace {

std::vector<float> random_vector(long n, std::uint64_t draw, double lo = -1, double hi = 1) {
  Generator g(9, RngStream::user, draw);
  std::vector<float> v(static_cast<std::size_t>(n));
  for (float& x : v) x = float(g.uniform(lo, hi));
  return v;
}

template <ConvGeometry G>
void check_conv_bodies() {
  constexpr int n = 3;
  constexpr long per_sample = long(G.col_rows()) * G.out_hw();
  const std::vector<float> x = random_vector(n * G.in_size(), 1);
  // im2col: the batch's columns, element by element, equal cpu::im2col per sample.
  std::vector<float> cols(std::size_t(per_sample * n)), want(static_cast<std::size_t>(per_sample));
  for (long i = 0; i < per_sample * n; ++i) kernels::im2col_element<G>(i, x.data(), cols.data());
  for (int s = 0; s < n; ++s) {
    cpu::im2col<G>(x.data() + s * G.in_size(), want.data());
    CHECK(std::equal(want.begin(), want.end(), cols.begin() + s * per_sample));
  }
  // col2im: the gather equals cpu::col2im_add's scatter into zeros, bit for bit.
  const std::vector<float> gcol = random_vector(per_sample * n, 2);
  std::vector<float> gathered(std::size_t(n * G.in_size())), scattered(std::size_t(n * G.in_size()), 0.0f);
  for (long i = 0; i < n * G.in_size(); ++i) kernels::col2im_gather<G>(i, gcol.data(), gathered.data());
  for (int s = 0; s < n; ++s) cpu::col2im_add<G>(gcol.data() + s * per_sample, scattered.data() + s * G.in_size());
  CHECK(gathered == scattered);
  // cpu::col2im (the vector path where the build has one) writes the same bits over whatever x held.
  std::vector<float> written(std::size_t(n * G.in_size()), -7.0f);
  for (int s = 0; s < n; ++s) cpu::col2im<G>(gcol.data() + s * per_sample, written.data() + s * G.in_size());
  CHECK(gathered == written);
}

}  // namespace

TEST_CASE("shared conv bodies: im2col element and col2im gather equal the CPU's loops") {
  check_conv_bodies<ConvGeometry{3, 9, 9, 5, 5, 5, 3, 2, 1, true}>();
  check_conv_bodies<ConvGeometry{2, 7, 6, 4, 3, 2, 5, 1, 0, false}>();
  check_conv_bodies<ConvGeometry{1, 12, 12, 7, 12, 12, 5, 1, 2, true}>();
  check_conv_bodies<ConvGeometry{4, 8, 8, 3, 2, 2, 3, 3, 0, false}>();  // stride 3: some pixels never used
  check_conv_bodies<ConvGeometry{3, 6, 6, 4, 6, 6, 3, 1, 1, false}>();  // "same" padding
  check_conv_bodies<ConvGeometry{2, 4, 5, 3, 6, 7, 3, 1, 2, false}>();  // padding wider than some rows reach
  // Bias add over [n x channels x spatial].
  std::vector<float> y(2 * 3 * 4, 1.0f);
  const float b[3] = {0.5f, -1.0f, 2.0f};
  for (long i = 0; i < long(y.size()); ++i) kernels::bias_add(i, y.data(), b, 3, 4);
  for (long i = 0; i < long(y.size()); ++i) CHECK(y[std::size_t(i)] == 1.0f + b[(i / 4) % 3]);
}

template <int InH, int InW, int OutH, int OutW, int K, int S>
void check_pool_bodies(bool ties) {
  constexpr long planes = 4;
  std::vector<float> x = random_vector(planes * InH * InW, 3);
  if (ties)
    for (float& v : x) v = std::round(v * 2);  // many equal maxima: the first one must win everywhere
  const std::vector<float> gy = random_vector(planes * OutH * OutW, 4);
  std::vector<float> y_cpu(gy.size()), y_body(gy.size());
  Cpu::maxpool_forward<InH, InW, OutH, OutW, K, S>(x.data(), y_cpu.data(), planes);
  for (long o = 0; o < long(gy.size()); ++o) kernels::maxpool_forward(o, x.data(), y_body.data(), InH, InW, OutH, OutW, K, S);
  CHECK(y_cpu == y_body);
  std::vector<float> want(x.size(), 7.0f), got(x.size());  // 7: backward must overwrite every element
  Cpu::maxpool_backward<InH, InW, OutH, OutW, K, S>(x.data(), gy.data(), want.data(), planes);
  for (long i = 0; i < long(x.size()); ++i)
    kernels::maxpool_backward_gather(i, x.data(), gy.data(), got.data(), InH, InW, OutH, OutW, K, S);
  CHECK(got == want);
  Cpu::avgpool_backward<InH, InW, OutH, OutW, K, S>(gy.data(), want.data(), planes);
  for (long i = 0; i < long(x.size()); ++i)
    kernels::avgpool_backward_gather(i, gy.data(), got.data(), InH, InW, OutH, OutW, K, S);
  CHECK(got == want);
}

TEST_CASE("shared pooling bodies: backward gathers equal the CPU's scatters, ties included") {
  check_pool_bodies<8, 8, 4, 4, 2, 2>(false);
  check_pool_bodies<8, 8, 4, 4, 2, 2>(true);
  check_pool_bodies<7, 7, 3, 3, 2, 2>(true);   // a row and a column outside every window
  check_pool_bodies<24, 40, 12, 20, 2, 2>(true);  // rows of more than 16 windows (the SIMD path)
  check_pool_bodies<5, 37, 2, 18, 2, 2>(false);
  check_pool_bodies<9, 7, 3, 2, 3, 3>(true);   // K == S with 3x3 windows and leftovers
  check_pool_bodies<9, 7, 4, 3, 3, 2>(true);   // overlapping windows
  check_pool_bodies<7, 7, 5, 5, 3, 1>(true);   // stride 1
  check_pool_bodies<9, 9, 2, 2, 3, 4>(false);  // gaps between windows
  // Global average pooling: forward is the mean of each plane, backward spreads it evenly.
  const std::vector<float> x = random_vector(3 * 5, 5);
  float y[3], gx[15];
  for (long p = 0; p < 3; ++p) kernels::global_avgpool_forward(p, x.data(), y, 5);
  for (long p = 0; p < 3; ++p)
    CHECK(y[p] == doctest::Approx((x[p * 5] + x[p * 5 + 1] + x[p * 5 + 2] + x[p * 5 + 3] + x[p * 5 + 4]) / 5));
  for (long i = 0; i < 15; ++i) kernels::global_avgpool_backward(i, y, gx, 5);
  for (long i = 0; i < 15; ++i) CHECK(gx[i] == y[i / 5] / 5.0f);
}

TEST_CASE("shared dropout body: the CUDA per-element masks equal the CPU backend's") {
  const std::vector<float> x = random_vector(6 * 7 * 5, 6);
  for (long unit : {1L, 35L}) {
    for (float p : {0.05f, 0.3f, 0.5f}) {
      std::vector<float> want(x.size()), got(x.size());
      Cpu::dropout_forward(x.data(), want.data(), nullptr, long(x.size()), 17, 23, 4, unit, p);
      for (long i = 0; i < long(x.size()); ++i)
        kernels::dropout_apply(i, x.data(), got.data(), std::uint64_t(17), std::uint64_t(23), 4, unit, p);
      CHECK(got == want);
    }
  }
}

TEST_CASE("shared softmax rows: stable, normalised, and the CPU backend's results") {
  std::vector<double> x = {1, 2, 3, 1000, 1001, 1002, -5, 0, 5};
  std::vector<double> y(9), ls(9), want(9);
  for (long r = 0; r < 3; ++r) kernels::softmax_row(r, x.data(), y.data(), 3);
  for (long r = 0; r < 3; ++r) kernels::log_softmax_row(r, x.data(), ls.data(), 3);
  for (int i = 0; i < 9; ++i) CHECK(std::exp(ls[std::size_t(i)]) == doctest::Approx(y[std::size_t(i)]).epsilon(1e-12));
  for (int r = 0; r < 3; ++r)
    CHECK(y[std::size_t(3 * r)] + y[std::size_t(3 * r + 1)] + y[std::size_t(3 * r + 2)] == doctest::Approx(1.0));
  CHECK(y[0] == doctest::Approx(y[3]).epsilon(1e-12));  // shift invariance: no overflow at 1000
  Cpu::softmax_forward<3>(x.data(), want.data(), 3);
  CHECK(want == y);
  const std::vector<double> gy = {0.1, -0.2, 0.3, 0.5, 0.5, -1, 2, 0, 1};
  std::vector<double> gx(9), gx_cpu(9);
  for (long r = 0; r < 3; ++r) kernels::log_softmax_backward_row(r, ls.data(), gy.data(), gx.data(), 3);
  Cpu::log_softmax_backward<3>(ls.data(), gy.data(), gx_cpu.data(), 3);
  CHECK(gx == gx_cpu);
  for (long r = 0; r < 3; ++r) kernels::softmax_backward_row(r, y.data(), gy.data(), gx.data(), 3);
  Cpu::softmax_backward<3>(y.data(), gy.data(), gx_cpu.data(), 3);
  CHECK(gx == gx_cpu);
}

TEST_CASE("shared batch-norm bodies: merged slice moments give the two-pass statistics") {
  const std::vector<float> x = random_vector(1000, 7, -3, 5);
  double sum = 0;
  for (float v : x) sum += v;
  const double mu = sum / 1000;
  double sq = 0;
  for (float v : x) sq += (v - mu) * (v - mu);
  for (int parts : {1, 3, 7, 256}) {
    // The device's slicing: slice p holds [count * p / parts, count * (p + 1) / parts).
    double n = 0, mean = 0, m2 = 0;
    for (int p = 0; p < parts; ++p) {
      const long begin = 1000L * p / parts, end = 1000L * (p + 1) / parts;
      double s = 0, q = 0;
      for (long j = begin; j < end; ++j) s += x[std::size_t(j)];
      const double m = end > begin ? s / double(end - begin) : 0;
      for (long j = begin; j < end; ++j) q += (x[std::size_t(j)] - m) * (x[std::size_t(j)] - m);
      kernels::merge_moments(n, mean, m2, double(end - begin), m, q);
    }
    CHECK(n == 1000);
    CHECK(mean == doctest::Approx(mu).epsilon(1e-12));
    CHECK(m2 == doctest::Approx(sq).epsilon(1e-12));
  }
  // The statistics step: PyTorch's running update with the unbiased variance.
  float mean_out[1], inv_std[1], running_mean[1] = {0.5f}, running_var[1] = {2.0f};
  kernels::batchnorm_train_stats(0, 1.5, 8.0, 4, mean_out, inv_std, running_mean, running_var, 0.1, 1e-5);
  CHECK(mean_out[0] == 1.5f);
  CHECK(inv_std[0] == doctest::Approx(1 / std::sqrt(2.0 + 1e-5)));
  CHECK(running_mean[0] == doctest::Approx(0.9 * 0.5 + 0.1 * 1.5));
  CHECK(running_var[0] == doctest::Approx(0.9 * 2.0 + 0.1 * 8.0 / 3));
  CHECK(kernels::batchnorm_grad_input(2.0f, 0.5f, 3.0, 1.0, 4.0, 4, false) == 6.0f);
  CHECK(kernels::batchnorm_grad_input(2.0f, 0.5f, 3.0, 1.0, 4.0, 4, true) == doctest::Approx(3.0 / 4 * (8 - 1 - 2)));
}

TEST_CASE("shared loss rows: NLLLoss, CrossEntropyLoss and argmax as in train/") {
  constexpr int batch = 5, classes = 4;
  const std::vector<float> x = random_vector(batch * classes, 8, -3, 3);
  const int targets[batch] = {0, 3, 2, 2, 1};
  std::vector<float> log_probs(x.size());
  Cpu::log_softmax_forward<classes>(x.data(), log_probs.data(), batch);
  for (float scale : {1.0f, 0.5f}) {
    std::vector<float> want(x.size()), got(x.size());
    NLLLoss().backward(log_probs.data(), targets, batch, classes, want.data(), scale);
    double loss = 0;
    for (long r = 0; r < batch; ++r)
      loss += kernels::nll_row(r, log_probs.data(), targets, classes, got.data(), -scale / float(batch));
    CHECK(got == want);
    CHECK(loss / batch == doctest::Approx(NLLLoss().forward(log_probs.data(), targets, batch, classes)).epsilon(1e-6));
    CrossEntropyLoss().backward(x.data(), targets, batch, classes, want.data(), scale);
    loss = 0;
    for (long r = 0; r < batch; ++r)
      loss += kernels::cross_entropy_row(r, x.data(), targets, classes, got.data(), double(scale) / batch);
    CHECK(got == want);
    CHECK(loss / batch == doctest::Approx(CrossEntropyLoss().forward(x.data(), targets, batch, classes)).epsilon(1e-6));
  }
  // A bad target: no loss, a zero gradient row, and it is reported as invalid.
  const int bad[1] = {7};
  float g[classes] = {1, 1, 1, 1};
  CHECK(kernels::nll_row(0, log_probs.data(), bad, classes, g, -1.0f) == 0.0);
  CHECK((g[0] == 0 && g[1] == 0 && g[2] == 0 && g[3] == 0));
  CHECK_FALSE(kernels::target_valid(7, classes));
  // argmax: ties go to the lowest index, NaN loses.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<std::vector<float>> rows = {{1, 3, 3, 0}, {nan, 1, 2, 2}, {0, 0, 0, 0}, {-1, nan, -2, -0.5f}};
  for (const auto& row : rows) CHECK(kernels::argmax_row(row.data(), classes) == argmax_row(row.data(), classes));
}

TEST_CASE("shared SGD body: torch.optim.SGD exactly as ctnet::SGD steps it") {
  struct Case {
    double momentum, dampening, weight_decay;
    bool nesterov;
  };
  for (const Case c : {Case{0, 0, 0, false}, Case{0, 0, 1e-2, false}, Case{0.9, 0, 0, false},
                       Case{0.9, 0.3, 5e-3, false}, Case{0.8, 0, 1e-3, true}}) {
    CAPTURE(c.momentum);
    CAPTURE(c.nesterov);
    std::vector<float> p_ref = random_vector(257, 10), p = p_ref, b(p.size(), 0.0f);
    SGD<float> opt(0.1, c.momentum, c.dampening, c.weight_decay, c.nesterov);
    for (int step = 0; step < 3; ++step) {
      const std::vector<float> g = random_vector(257, 11 + std::uint64_t(step));
      opt.step(p_ref, g);
      kernels::SgdCoefficients<float> k;
      k.lr = 0.1f;
      k.weight_decay = float(c.weight_decay);
      k.momentum = float(c.momentum);
      k.decay = c.weight_decay != 0;
      k.nesterov = c.nesterov;
      k.use_momentum = c.momentum != 0;
      k.b_scale = step == 0 ? 0.0f : float(c.momentum);
      k.g_scale = step == 0 ? 1.0f : float(1 - c.dampening);
      for (long i = 0; i < long(p.size()); ++i) kernels::sgd_update(i, p.data(), g.data(), b.data(), k);
      CHECK(p == p_ref);
    }
  }
}

TEST_CASE("shared batch gathering: the same samples, order and values as DataLoader") {
  Dataset data;
  data.count = 37;
  data.rows = 5;
  data.cols = 4;
  Generator g(3, RngStream::user, 2);
  for (int i = 0; i < data.count * 20; ++i) data.images.push_back(std::uint8_t(g.below(256)));
  for (int i = 0; i < data.count; ++i) data.labels.push_back(std::uint8_t(g.below(10)));
  LoaderOptions options;
  options.batch_size = 8;
  options.seed = 77;
  options.normalize = {0.2f, 0.35f};
  DataLoader loader(data, options);
  for (int epoch : {0, 3}) {
    loader.start_epoch(epoch);
    const std::vector<int> order = epoch_order(data.count, 77, epoch);
    Batch batch;
    for (int b = 0; loader.next(batch); ++b) {
      const int* indices = order.data() + b * 8;
      CHECK(std::equal(batch.indices.begin(), batch.indices.end(), indices));
      std::vector<float> images(std::size_t(batch.size) * 20);
      std::vector<int> targets(std::size_t(batch.size));
      for (long i = 0; i < long(images.size()); ++i)
        kernels::gather_normalize(i, data.images.data(), indices, 20, images.data(), 0.2f, 1.0f / 0.35f);
      for (long s = 0; s < batch.size; ++s) kernels::gather_label(s, data.labels.data(), indices, targets.data());
      CHECK(images == batch.images);
      CHECK(targets == batch.labels);
    }
  }
  const std::vector<int> plain = epoch_order(5, 1, 0, false);
  CHECK(plain == std::vector<int>{0, 1, 2, 3, 4});
}
