// vlm compare: a `vlm run --dump` file against reference tensors (e.g. saved from a Hugging Face run with
// safetensors' save_file), tensor by tensor: shapes, max abs error, ids identical. Exit 1 when any common
// tensor differs beyond the tolerance, so scripts can check any checkpoint the way the tests check fixtures.
#include <cmath>

#include <fmt/format.h>

#include "../command.hpp"
#include "vlm/io/safetensors.hpp"
#include "vlm/util/error.hpp"

namespace vlm::host {

namespace {

std::filesystem::path dump_file(const std::string& path) {
  const std::filesystem::path p(path);
  return std::filesystem::is_directory(p) ? p / "tensors.safetensors" : p;
}

}  // namespace

int compare_command(const std::vector<std::string>& args) {
  po::options_description options("vlm compare");
  options.add_options()
      ("dump", po::value<std::string>()->required(), "a `vlm run --dump` folder or safetensors file")
      ("reference", po::value<std::string>()->required(), "reference safetensors (e.g. Hugging Face tensors)")
      ("prefix", po::value<std::string>()->default_value(""), "prefix of the reference names, e.g. \"single.\"")
      ("tolerance", po::value<double>()->default_value(1e-4), "max abs error allowed for float tensors");
  po::positional_options_description positional;
  positional.add("dump", 1).add("reference", 1);
  po::variables_map vm;
  if (!parse_options(args, "usage: vlm compare DUMP REFERENCE [--prefix CASE.] [--tolerance T]", options,
                     positional, vm))
    return 0;
  const auto mine = SafetensorsFile::open(dump_file(vm["dump"].as<std::string>()));
  const auto reference = SafetensorsFile::open(vm["reference"].as<std::string>());
  const std::string prefix = vm["prefix"].as<std::string>();
  const double tolerance = vm["tolerance"].as<double>();

  int compared = 0, failed = 0;
  for (const auto& info : mine->tensors()) {
    const TensorInfo* ref_info = reference->find(prefix + info.name);
    if (!ref_info) continue;
    ++compared;
    const Tensor a = mine->tensor(info.name), b = reference->tensor(prefix + info.name);
    if (!(a.shape() == b.shape())) {
      ++failed;
      fmt::print("{:<28} SHAPE   {} vs {}\n", info.name, a.shape().str(), b.shape().str());
      continue;
    }
    double worst = 0;
    int64_t at = -1;
    for (int64_t i = 0; i < a.numel(); ++i) {
      const double d = std::abs(a.item(i) - b.item(i));
      if (std::isnan(d) || d > worst) {
        worst = std::isnan(d) ? INFINITY : d;
        at = i;
      }
    }
    const bool exact = !is_float(a.dtype()) || !is_float(b.dtype());
    const bool ok = exact ? worst == 0 : worst <= tolerance;
    failed += !ok;
    fmt::print("{:<28} {:<7} max abs error {:.3g}{}\n", info.name, ok ? "ok" : "DIFFERS", worst,
               at >= 0 && !ok ? fmt::format(" at flat index {}", at) : "");
  }
  if (!compared) fail("no tensor names in common (is --prefix right? reference names look like '{}')",
                      reference->tensors().empty() ? "" : reference->tensors().front().name);
  fmt::print("{} compared, {} differ (float tolerance {}, ids exact)\n", compared, failed, tolerance);
  return failed ? 1 : 0;
}

}  // namespace vlm::host
