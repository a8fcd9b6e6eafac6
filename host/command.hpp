#pragma once
// One `vlm <subcommand>`: each lives in host/commands/<name>.cpp and registers itself here.
#include <string>
#include <vector>

#include <boost/program_options.hpp>

namespace vlm::host {

namespace po = boost::program_options;

struct Command {
  const char* name;
  const char* summary;
  int (*run)(const std::vector<std::string>& args);
};

const std::vector<Command>& commands();

// Parses `args` against `options` (+ positional), handles --help (prints usage, returns false).
// Unknown or malformed options throw po::error, which main() reports as a usage error.
bool parse_options(const std::vector<std::string>& args, const std::string& usage, const po::options_description& options,
                   const po::positional_options_description& positional, po::variables_map& vm);

int list_command(const std::vector<std::string>& args);
int info_command(const std::vector<std::string>& args);
int run_command(const std::vector<std::string>& args);
int synth_command(const std::vector<std::string>& args);
int bench_command(const std::vector<std::string>& args);
int compare_command(const std::vector<std::string>& args);
int tokenize_command(const std::vector<std::string>& args);
int template_command(const std::vector<std::string>& args);
int score_command(const std::vector<std::string>& args);
int fill_mask_command(const std::vector<std::string>& args);
int retrieve_command(const std::vector<std::string>& args);
int eval_command(const std::vector<std::string>& args);
int serve_command(const std::vector<std::string>& args);

}  // namespace vlm::host
