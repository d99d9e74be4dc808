// mnist_adder: an MNIST image plus a random digit 0-9 in; the image's digit and the sum of the two out.
//
// Two inputs, two heads, one loss per head. --sum-loss nll (default) treats the sum as one of 19
// classes; --sum-loss mse regresses it as one number and rounds, as the course notes did. --save keeps the
// training state after every epoch and --resume continues it to the same bits (common/resume.hpp). Under
// mpirun the training is data-parallel as in the other examples (common/mnist_example.hpp): every rank
// trains on its share of each global batch, the gradients are summed in rank order, batch-norm statistics
// are per replica, and rank 0 alone prints, evaluates, writes the CSV and saves.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <span>
#include <sstream>

#include <ctnet/data/paired_digits.hpp>
#include <ctnet/train/multitask.hpp>

#include "common/cuda_driver.hpp"
#include "common/mnist_data.hpp"
#include "common/mnist_example.hpp"
#include "mnist_models.hpp"

namespace {

using namespace ctnet;

struct AdderMetrics {
  double loss = 0, digit_loss = 0, sum_loss = 0;
  long digit_correct = 0, sum_correct = 0, total = 0;
  double digit() const { return total ? double(digit_correct) / double(total) : 0; }
  double sum() const { return total ? double(sum_correct) / double(total) : 0; }

  // As the training state's history keeps them: six columns per set (train_..., test_...).
  static std::vector<std::string> columns(const std::string& set) {
    return {set + "_loss",          set + "_digit_loss", set + "_sum_loss", set + "_digit_correct",
            set + "_sum_correct", set + "_total"};
  }
  void append(std::vector<double>& row) const {
    row.insert(row.end(), {loss, digit_loss, sum_loss, double(digit_correct), double(sum_correct), double(total)});
  }
  static AdderMetrics from(const std::vector<double>& row, std::size_t at) {
    return {row[at], row[at + 1], row[at + 2], long(row[at + 3]), long(row[at + 4]), long(row[at + 5])};
  }
};

template <class Net>
int run_adder(const examples::RunOptions& o, const examples::MnistExampleConfig& c, bool mse,
              examples::Distributed& dist) {
  Communicator& comm = dist.comm();
  const int ranks = comm.size();
  const int threads = examples::threads_per_rank(o, ranks);
  Cpu::set_threads(threads);
  std::cout << c.description << "\n\n";
  summary<Net>(std::cout);
  // The image input is the network's first; labels are digits 0-9, so every sum is one of the 19 classes.
  using ImageShape = typename tuple_component<typename Net::input_shape_t, 0>::type;
  static_assert(ImageShape::size == 784, "mnist_adder: the image input is 1x28x28");
  const examples::MnistSplits data = examples::load_splits<ImageShape>(o, 10);
  // Every rank reads the data and takes its share of each global batch of --batch.
  LoaderOptions train_options = examples::train_loader_options(o);
  train_options.shard_rank = comm.rank();
  train_options.shard_count = ranks;
  DataLoader train_loader(data.train, train_options), test_loader(data.test, examples::test_loader_options());

  std::cout << "\ndata: " << data.train.count << " training and " << data.test.count
            << " test images, each paired with a "
            << "random digit (fresh pairing each training epoch, fixed pairing for the test set)\nsum loss: "
            << (mse ? "MSE on one output, rounded" : "NLL over 19 classes") << "; "
            << (o.schedule == "onecycle" ? "OneCycleLR max_lr " : "StepLR lr ") << o.lr << ", batch " << o.batch
            << ", seed " << o.seed << ", " << threads << " threads"
            << (ranks > 1 ? ", " + std::to_string(ranks) + " ranks" : std::string()) << "\n\n";

  Model<Net> model(o.seed, o.batch, examples::test_batch);
  comm.broadcast(model.parameters(), 0);
  comm.broadcast(model.buffers(), 0);
  const MultiTaskLoss loss = MultiTaskLoss::for_output<typename Net::output_shape_t>(
      {{"digit", TaskLoss::nll, 10, 1.0}, {"sum", mse ? TaskLoss::mse : TaskLoss::nll, mse ? 1 : 19, 1.0}});
  SGD<float> sgd(o.lr, c.momentum, 0, o.weight_decay);
  // --schedule: OneCycleLR per batch (the default) or StepLR per epoch, as the other examples.
  const auto lr_at = examples::lr_schedule(o, c, train_loader.batches_per_epoch());

  std::vector<float> x(std::size_t(examples::test_batch) * 785), grad(std::size_t(o.batch) * Net::output_shape_t::size);
  std::vector<int> sums(examples::test_batch);
  std::vector<float> sum_values(examples::test_batch);
  // Lays the batch out as the network's inputs: [n x 784] images, then [n x 1] digits; fills targets.
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
  const auto account = [&](AdderMetrics& m, const float* out, int n, const std::vector<TaskTargets>& t) {
    const MultiTaskResult r = loss.forward(out, n, t);
    const std::vector<long> correct = loss.correct(out, n, t);
    m.loss += r.total * n;
    m.digit_loss += r.parts[0] * n;
    m.sum_loss += r.parts[1] * n;
    m.digit_correct += correct[0];
    m.sum_correct += correct[1];
    m.total += n;
    return r.total;
  };

  ProgressBar progress(std::cout, examples::progress_mode(o));
  JsonValue digit_list = JsonValue::array(), sum_list = JsonValue::array();
  double best_digit = 0, best_sum = 0, last_digit = 0, last_sum = 0;
  // An epoch's CSV row up to its seconds (the last column), and the whole run's figures: for the epochs this
  // process trains and for those a resumed run did before, alike.
  const auto csv_row = [](int epoch, const AdderMetrics& tr, const AdderMetrics& te, double lr) {
    const double n = double(te.total);
    std::ostringstream row;
    row << epoch << ',' << tr.loss / double(tr.total) << ',' << tr.digit() << ',' << tr.sum() << ',' << te.loss / n
        << ',' << te.digit_loss / n << ',' << te.sum_loss / n << ',' << te.digit() << ',' << te.sum() << ',' << lr
        << ',';
    return row.str();
  };
  const auto record = [&](const AdderMetrics& te) {
    last_digit = te.digit();
    last_sum = te.sum();
    best_digit = std::max(best_digit, last_digit);
    best_sum = std::max(best_sum, last_sum);
    digit_list.push_back(std::round(last_digit * 1e6) / 1e4);
    sum_list.push_back(std::round(last_sum * 1e6) / 1e4);
  };

  const RunIdentity identity = [&] {
    RunIdentity id = examples::run_identity(o, c);
    id.options.emplace_back("--sum-loss", mse ? "mse" : "nll");
    return id;
  }();
  std::vector<std::string> columns = AdderMetrics::columns("train"), test_columns = AdderMetrics::columns("test");
  columns.insert(columns.end(), test_columns.begin(), test_columns.end());
  columns.push_back("lr");
  TrainingRecord state_record{identity, {}, {columns, {}}, {{"example", c.name}, {"sum_loss", mse ? "mse" : "nll"}}};
  // Rank 0 alone writes the CSV and the training state (every rank reads the state to resume).
  const std::string state_path = dist.root() ? examples::state_path(o) : std::string();
  const std::string csv_path = dist.root() ? o.csv : std::string("-");
  long step = 0;
  int first_epoch = 1;
  std::vector<std::string> resumed_rows;
  if (!o.resume.empty()) {
    const TrainingState state = load_training_state(o.resume, model, sgd, train_loader, identity);
    state_record.history.rows = examples::history_rows(state, o.resume, columns);
    step = state.counters.global_step;
    first_epoch = int(state.counters.epoch) + 1;
    const std::vector<std::string> seconds =
        examples::previous_csv_seconds(csv_path == "-" ? std::string() : csv_path, first_epoch - 1, 11);
    for (const auto& row : state_record.history.rows) {
      const AdderMetrics tr = AdderMetrics::from(row, 0), te = AdderMetrics::from(row, 6);
      record(te);
      const int epoch = int(resumed_rows.size()) + 1;
      resumed_rows.push_back(csv_row(epoch, tr, te, row[12]) + seconds[std::size_t(epoch - 1)] + '\n');
    }
    if (!examples::announce_resume(std::cout, o, state.counters.epoch)) return 0;
  }
  std::ofstream csv;
  const std::string csv_header =
      "epoch,train_loss,train_digit_accuracy,train_sum_accuracy,test_loss,test_digit_loss,test_sum_loss,"
      "test_digit_accuracy,test_sum_accuracy,lr,seconds\n";
  if (csv_path != "-" && o.resume.empty()) {
    csv.open(csv_path);
    if (!csv) throw OptionError("--csv: cannot write '" + csv_path + "'");
    csv << csv_header;
  } else if (csv_path != "-") {
    examples::rewrite_csv(csv, csv_path, csv_header, resumed_rows);
  }
  const auto start = std::chrono::steady_clock::now();
  Batch batch;
  for (int epoch = first_epoch; epoch <= o.epochs; ++epoch) {
    const auto epoch_start = std::chrono::steady_clock::now();
    const std::string label = "epoch " + std::to_string(epoch) + "/" + std::to_string(o.epochs);
    AdderMetrics tr;
    double lr = 0;
    model.train();
    train_loader.start_epoch(epoch);
    progress.start(label, train_loader.batches_per_epoch());
    long done = 0;
    while (train_loader.next(batch)) {
      lr = lr_at(step++, epoch);
      sgd.set_lr(lr);
      const TrainingStep at{step, epoch, done + 1, lr};
      // This rank's share of the batch (a rank may have none of a short last batch).
      AdderMetrics mine;
      double batch_loss = 0;
      bool nonfinite = false;
      model.zero_grad();
      if (batch.size > 0) {
        model.set_first_row(std::uint64_t(batch.first_row));  // dropout draws the global batch's masks
        // The pairing follows the image's index in the dataset, so it is the same for any number of ranks.
        const auto targets =
            prepare(batch, [&](int index) { return paired_digit(o.seed, std::uint64_t(epoch), index); });
        const float* out = model.forward(x.data(), batch.size);
        batch_loss = account(mine, out, batch.size, targets);
        // The global mean's gradient is the sum over ranks of (rows / global rows) x the local mean's.
        const int global = batch.global_size > 0 ? batch.global_size : batch.size;
        loss.backward(out, batch.size, targets, grad.data(),
                      batch.size == global ? 1.0f : float(batch.size) / float(global));
        model.backward(grad.data());
        nonfinite = !(std::isfinite(batch_loss) && all_finite(model.gradients()) && all_finite(model.buffers()));
      } else if (model.training()) {
        model.set_step(model.step() + 1);  // keeps the dropout counter with the other ranks'
      }
      double stats[7] = {
          mine.loss,          mine.digit_loss,      mine.sum_loss, double(mine.digit_correct), double(mine.sum_correct),
          double(mine.total), nonfinite ? 1.0 : 0.0};
      comm.allreduce_sum_ordered(std::span<double>(stats, 7));
      if (stats[6] != 0) {
        if (nonfinite) check_training_step(model, batch_loss, grad.data(), at);  // throws, naming the layer
        throw NumericalError("training diverged at " + detail::step_text(at) + " on " + std::to_string(long(stats[6])) +
                             " other rank(s) of " + std::to_string(ranks) + " (their error names the layer)");
      }
      comm.allreduce_sum_ordered(model.gradients());
      // Finite parts can overflow when summed; the sum has the same bits on every rank, so all stop here.
      if (ranks > 1 && !all_finite(model.gradients()))
        throw NumericalError("training diverged at " + detail::step_text(at) + ": the gradient summed over " +
                             std::to_string(ranks) + " ranks overflows (each rank's is finite); " +
                             detail::divergence_hint());
      sgd.step(model.parameters(), model.gradients());
      tr.loss += stats[0];
      tr.digit_loss += stats[1];
      tr.sum_loss += stats[2];
      tr.digit_correct += long(stats[3]);
      tr.sum_correct += long(stats[4]);
      tr.total += long(stats[5]);
      progress.update(++done, tr.total, tr.loss / double(tr.total), tr.sum());
    }
    // Rank 0's replica is the model (its batch-norm statistics are the ones saved): it alone is evaluated.
    AdderMetrics te;
    test_loader.start_epoch(0);
    for (long b = 1; dist.root() && test_loader.next(batch); ++b) {
      const auto targets = prepare(batch, [](int index) { return test_paired_digit(index); });
      const float* out = model.predict(x.data(), batch.size);
      check_evaluation_batch<Net>(account(te, out, batch.size, targets), b, out, batch.size);
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start).count();
    record(te);
    const double n = double(te.total);
    char line[320];
    std::snprintf(line, sizeof line,
                  "%s  train loss %.4f digit %s sum %s  test loss %.4f (digit %.4f, sum %.4f) digit %s sum %s  "
                  "lr %.5f  %.1f s",
                  label.c_str(), tr.loss / double(tr.total), examples::percent(tr.digit()).c_str(),
                  examples::percent(tr.sum()).c_str(), te.loss / n, te.digit_loss / n, te.sum_loss / n,
                  examples::percent(last_digit).c_str(), examples::percent(last_sum).c_str(), lr, seconds);
    std::cout << line << std::endl;
    if (csv) csv << csv_row(epoch, tr, te, lr) << seconds << '\n' << std::flush;
    if (!state_path.empty()) {
      std::vector<double> row;
      tr.append(row);
      te.append(row);
      row.push_back(lr);
      state_record.history.rows.push_back(row);
      state_record.counters = TrainingCounters{epoch, step};
      save_training_state(state_path, model, sgd, train_loader, state_record);
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "\nbest test accuracy: digit " << examples::percent(best_digit) << ", sum "
            << examples::percent(best_sum) << "; last: digit " << examples::percent(last_digit) << ", sum "
            << examples::percent(last_sum) << "\n";
  if (!state_path.empty()) std::cout << "saved " << state_path << " (the training state after every epoch)\n";
  if (dist.root()) examples::export_onnx_if_asked(o.common, model, std::cout, {"image", "number"}, {"digit", "sum"});
  JsonValue j = JsonValue::object();
  j["example"] = c.name;
  j["parameters"] = Net::parameter_count;
  j["epochs"] = o.epochs;
  j["seed"] = o.seed;
  j["threads"] = threads;
  if (ranks > 1) j["ranks"] = ranks;
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

int main(int argc, char** argv) {
  examples::MnistExampleConfig c;
  c.name = "mnist_adder";
  c.description =
      "MNIST adder: reads an MNIST image and a random digit 0-9, predicts the image's digit (10 classes) and\n"
      "the sum of the two (19 classes, or one regressed number with --sum-loss mse). Two inputs, two heads.";
  c.defaults.epochs = 15;
  c.defaults.batch = 128;
  c.defaults.lr = 0.1;
  c.defaults.rotation = 7;
  c.defaults.translate = 0.08f;
  c.defaults.weight_decay = 1e-4;
  std::string sum_loss = "nll";
  std::optional<examples::Distributed> dist;
  const int status = examples::guarded_main(c.name, [&] {
    dist.emplace(argc, argv);
    const auto o = examples::parse_options(argc, argv, c, examples::GpuPath::eager, [&](examples::CommandLine& cli) {
      cli.choice(
          "--sum-loss", "KIND", sum_loss, {"nll", "mse"},
          "nll (the sum as one of 19 classes) or mse (one regressed number, rounded) (default: " + sum_loss + ")");
    });
    if (!o) return 0;  // --help
    examples::check_resume_device(*o);
    examples::check_export_device(*o);
    if (dist->ranks() > 1 && o->device == "cuda")
      throw ctnet::OptionError("--device cuda: a distributed run (mpirun) trains on the CPU only");
    if (o->device == "cuda") {
      // The GPU adder trains with OneCycleLR on one device: what it cannot honour is refused, not ignored.
      if (o->was_given("--threads")) throw ctnet::OptionError("--threads: does not apply with --device cuda");
      if (o->schedule != "onecycle")
        throw ctnet::OptionError("--schedule " + o->schedule + ": mnist_adder --device cuda trains with onecycle only");
      return examples::run_adder_on_cuda(*o, c, sum_loss == "mse");
    }
    return sum_loss == "mse" ? run_adder<mnist::AdderMse>(*o, c, true, *dist)
                             : run_adder<mnist::Adder>(*o, c, false, *dist);
  });
  return dist ? dist->finish(status) : status;
}
