// examples/mnist_networks.hpp — the examples' networks by name, for the tools that load them (mnist_predict,
// ctnet_export_onnx, the PyTorch round trip).
//
// Requires: the networks of mnist_models.hpp. Guarantees: a name is the one an example records in its
// checkpoints (metadata user.example); for_each_classifier(f) calls f.template operator()<Net>(name) for the
// five MNIST classifiers, the flagship first; with_classifier(name, f) and with_network(name, f) call
// f.template operator()<Net>() for the network named (with_network also knows "reference", "mnist_adder"
// and "mnist_adder_mse") and return its int, or nullopt for a name they do not know; network_names lists
// with_network's names for an error message.
#pragma once

#include <optional>
#include <string>

#include "mnist_models.hpp"

namespace mnist {

template <class F>
void for_each_classifier(F&& f) {
  f.template operator()<Step3Gap>("mnist_step3_gap");
  f.template operator()<Step1Skeleton>("mnist_step1_skeleton");
  f.template operator()<Step2BnDropout>("mnist_step2_bn_dropout");
  f.template operator()<Session3>("mnist_session3");
  f.template operator()<Tiny>("mnist_tiny");
}

template <class F>
std::optional<int> with_classifier(const std::string& name, F&& f) {
  std::optional<int> result;
  for_each_classifier([&]<class Net>(const char* each) {
    if (!result && name == each) result = f.template operator()<Net>();
  });
  return result;
}

template <class F>
std::optional<int> with_network(const std::string& name, F&& f) {
  if (const std::optional<int> result = with_classifier(name, f)) return result;
  if (name == "reference") return f.template operator()<Reference>();
  if (name == "mnist_adder") return f.template operator()<Adder>();
  if (name == "mnist_adder_mse") return f.template operator()<AdderMse>();
  return std::nullopt;
}

inline constexpr const char* network_names =
    "mnist_step3_gap, mnist_step1_skeleton, mnist_step2_bn_dropout, mnist_session3, mnist_tiny, reference, "
    "mnist_adder, mnist_adder_mse";

}  // namespace mnist
