// ctnet/train/multitask.hpp — one loss per output head, weighted, for networks with several heads.
//
// Requires: a network whose output is a TupleShape (e.g. Heads<...>), stored head after head
// ([n x size_0][n x size_1]...). Guarantees: the total is sum_i weight_i * loss_i and every part is
// reported; backward writes each head's gradient (scaled by its weight, and by `scale`: a rank's share of
// a global batch, as Trainer passes it) into the same layout; per-head
// correct counts are argmax == target for classification heads and round(prediction) == target for
// regression heads with one output. Bad tasks (sizes that do not match the network, negative weights,
// missing targets) are ctnet::OptionError.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../core/shape.hpp"
#include "loss.hpp"
#include "metrics.hpp"

namespace ctnet {

enum class TaskLoss { nll, cross_entropy, mse };

struct Task {
  std::string name;
  TaskLoss loss = TaskLoss::nll;
  int size = 0;  // outputs of this head
  double weight = 1;
  double label_smoothing = 0;  // cross_entropy only
};

// Targets of one head for a batch: class indices (nll, cross_entropy) or values [n x size] (mse).
struct TaskTargets {
  const int* classes = nullptr;
  const float* values = nullptr;
};

struct MultiTaskResult {
  double total = 0;
  std::vector<double> parts;  // unweighted loss of each head
};

class MultiTaskLoss {
 public:
  // Checks the tasks against the network's output shape.
  template <class OutputShape>
  static MultiTaskLoss for_output(std::vector<Task> tasks) {
    if constexpr (is_tuple_shape_v<OutputShape>) {
      if (tasks.size() != std::size_t(OutputShape::count))
        throw OptionError("MultiTaskLoss: " + std::to_string(tasks.size()) + " tasks for a network with " +
                          std::to_string(OutputShape::count) + " heads");
      for (std::size_t i = 0; i < tasks.size(); ++i)
        if (tasks[i].size != OutputShape::sizes[i])
          throw OptionError("MultiTaskLoss: task '" + tasks[i].name + "' has " + std::to_string(tasks[i].size) +
                            " outputs, head " + std::to_string(i) + " has " + std::to_string(OutputShape::sizes[i]));
    } else {
      if (tasks.size() != 1 || tasks[0].size != OutputShape::size)
        throw OptionError("MultiTaskLoss: the network has one head of " + std::to_string(OutputShape::size) +
                          " outputs");
    }
    return MultiTaskLoss(std::move(tasks));
  }

  explicit MultiTaskLoss(std::vector<Task> tasks) : tasks_(std::move(tasks)) {
    if (tasks_.empty()) throw OptionError("MultiTaskLoss: no tasks");
    for (const Task& t : tasks_) {
      if (t.size < 1) throw OptionError("MultiTaskLoss: task '" + t.name + "' has no outputs");
      if (!(t.weight >= 0)) throw OptionError("MultiTaskLoss: task '" + t.name + "' has a negative weight");
    }
  }

  const std::vector<Task>& tasks() const { return tasks_; }

  template <class T>
  MultiTaskResult forward(const T* out, int n, const std::vector<TaskTargets>& targets) const {
    check_targets(targets);
    MultiTaskResult r;
    const T* head = out;
    for (std::size_t i = 0; i < tasks_.size(); ++i) {
      const Task& t = tasks_[i];
      double part = 0;
      switch (t.loss) {
        case TaskLoss::nll: part = NLLLoss{}.forward(head, targets[i].classes, n, t.size); break;
        case TaskLoss::cross_entropy:
          part = CrossEntropyLoss(t.label_smoothing).forward(head, targets[i].classes, n, t.size);
          break;
        case TaskLoss::mse: part = MSELoss{}.forward(head, as_scalar<T>(targets[i].values, n * t.size), n, t.size); break;
      }
      r.parts.push_back(part);
      r.total += t.weight * part;
      head += long(n) * t.size;
    }
    return r;
  }

  template <class T>
  void backward(const T* out, int n, const std::vector<TaskTargets>& targets, T* grad, T scale = T(1)) const {
    check_targets(targets);
    long offset = 0;
    for (std::size_t i = 0; i < tasks_.size(); ++i) {
      const Task& t = tasks_[i];
      const T w = T(t.weight) * scale;
      switch (t.loss) {
        case TaskLoss::nll: NLLLoss{}.backward(out + offset, targets[i].classes, n, t.size, grad + offset, w); break;
        case TaskLoss::cross_entropy:
          CrossEntropyLoss(t.label_smoothing).backward(out + offset, targets[i].classes, n, t.size, grad + offset, w);
          break;
        case TaskLoss::mse:
          MSELoss{}.backward(out + offset, as_scalar<T>(targets[i].values, n * t.size), n, t.size, grad + offset, w);
          break;
      }
      offset += long(n) * t.size;
    }
  }

  // Correct predictions per head.
  template <class T>
  std::vector<long> correct(const T* out, int n, const std::vector<TaskTargets>& targets) const {
    check_targets(targets);
    std::vector<long> c;
    const T* head = out;
    for (std::size_t i = 0; i < tasks_.size(); ++i) {
      const Task& t = tasks_[i];
      long k = 0;
      if (t.loss == TaskLoss::mse) {
        for (int s = 0; s < n; ++s)
          k += t.size == 1 && std::lround(double(head[s])) == std::lround(double(targets[i].values[s]));
      } else {
        k = correct_count(head, targets[i].classes, n, t.size);
      }
      c.push_back(k);
      head += long(n) * t.size;
    }
    return c;
  }

 private:
  void check_targets(const std::vector<TaskTargets>& targets) const {
    if (targets.size() != tasks_.size())
      throw OptionError("MultiTaskLoss: " + std::to_string(targets.size()) + " target sets for " +
                        std::to_string(tasks_.size()) + " tasks");
    for (std::size_t i = 0; i < tasks_.size(); ++i) {
      const bool classes = tasks_[i].loss != TaskLoss::mse;
      if (classes ? !targets[i].classes : !targets[i].values)
        throw OptionError("MultiTaskLoss: task '" + tasks_[i].name + "' needs " +
                          (classes ? "class targets" : "value targets"));
    }
  }
  // MSELoss takes targets in the network's scalar type.
  template <class T>
  const T* as_scalar(const float* values, long count) const {
    if constexpr (std::is_same_v<T, float>) {
      (void)count;
      return values;
    } else {
      scratch_.assign(values, values + count);
      return scratch_.data();
    }
  }

  std::vector<Task> tasks_;
  mutable std::vector<double> scratch_;
};

}  // namespace ctnet
