#pragma once
// Runs the built `vlm` as a user would (a child process; stdout and stderr captured apart), for the
// end-to-end command-line tests.
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/shared_data.hpp"

using nlohmann::ordered_json;
namespace fs = std::filesystem;

struct VlmResult {
  int exit_code = -1;
  std::string out, err;
};

inline std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

inline void write_file(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

inline std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (const char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

// Runs the built `vlm` with `args` (no shell interpretation of them), capturing stdout, stderr and the exit code.
inline VlmResult run_vlm(const std::vector<std::string>& args) {
  const fs::path err_path = vlm::test::temp_dir("cli") / "stderr";
  std::string command = shell_quote(VLM_BINARY);
  for (const auto& arg : args) command.append(" ").append(shell_quote(arg));
  command.append(" 2>").append(shell_quote(err_path.string()));
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe);
  VlmResult result;
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) result.out.append(buffer, n);
  const int status = pclose(pipe);
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  result.err = read_file(err_path);
  return result;
}

// Base64 (RFC 4648, padded): data: URLs for images in requests and datasets.
inline std::string base64(const std::string& bytes) {
  static const char* table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t v = uint32_t(uint8_t(bytes[i])) << 16;
    if (i + 1 < bytes.size()) v |= uint32_t(uint8_t(bytes[i + 1])) << 8;
    if (i + 2 < bytes.size()) v |= uint8_t(bytes[i + 2]);
    out += table[(v >> 18) & 63];
    out += table[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? table[(v >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? table[v & 63] : '=';
  }
  return out;
}

// A tiny synthetic Qwen2-VL checkpoint, written once per test process by `vlm synth`.
inline fs::path tiny_qwen2_vl() {
  static const fs::path dir = [] {
    const fs::path d = vlm::test::temp_dir("cli-tiny-qwen2-vl");
    REQUIRE(run_vlm({"synth", "--family", "qwen2_vl", "--size", "tiny", "--out", d.string()}).exit_code == 0);
    return d;
  }();
  return dir;
}
