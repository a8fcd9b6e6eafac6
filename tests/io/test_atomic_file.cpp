// Files vlm writes appear whole or not at all (vlm/io/atomic_file.hpp): a writer that fails midway leaves
// the previous file untouched and no temporary behind.
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "support/shared_data.hpp"
#include "vlm/io/atomic_file.hpp"
#include "vlm/io/safetensors.hpp"
#include "vlm/util/error.hpp"

using namespace vlm;
namespace fs = std::filesystem;

namespace {

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

size_t entries(const fs::path& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
  return n;
}

}  // namespace

TEST_CASE("temporary names stay beside the file and keep its extension", "[io][atomic]") {
  const fs::path t = temporary_path_for("/some/dir/marked.png");
  CHECK(t.parent_path() == "/some/dir");
  CHECK(t.extension() == ".png");
  CHECK(t.filename().string().starts_with(".marked."));
  CHECK(temporary_path_for("/some/dir/marked.png") != t);  // unique per call
}

TEST_CASE("write_text_atomically replaces a file whole and leaves nothing else", "[io][atomic]") {
  const fs::path dir = test::temp_dir("atomic-text");
  const fs::path file = dir / "results.json";
  for (const auto durability : {Durability::Rename, Durability::Sync}) {
    write_text_atomically(file, "first\n", durability);
    write_text_atomically(file, "second\n", durability);
    CHECK(read_all(file) == "second\n");
    CHECK(entries(dir) == 1);
  }
}

TEST_CASE("a writer that fails leaves the previous file and no temporary", "[io][atomic]") {
  const fs::path dir = test::temp_dir("atomic-fail");
  const fs::path file = dir / "out.bin";
  write_text_atomically(file, "intact");
  CHECK_THROWS_WITH(write_atomically(file, [](const fs::path& temporary) {
                      std::ofstream(temporary) << "half of it";
                      fail("disk full");
                    }),
                    Catch::Contains("disk full"));
  CHECK(read_all(file) == "intact");
  CHECK(entries(dir) == 1);
  // A folder that does not exist: the error names the file.
  CHECK_THROWS_WITH(write_text_atomically(dir / "missing" / "x.json", "{}"), Catch::Contains("x.json"));
}

TEST_CASE("a safetensors file whose tensors fail midway is never left under its name", "[io][atomic]") {
  const fs::path dir = test::temp_dir("atomic-safetensors");
  const fs::path file = dir / "tensors.safetensors";
  const Tensor t = Tensor::zeros({4, 4}, DType::F32);
  write_safetensors(file, {{"a", t}});
  const std::string before = read_all(file);
  std::vector<SafetensorsEntry> list = {{"a", DType::F32, Shape{4, 4}}, {"b", DType::F32, Shape{4, 4}}};
  CHECK_THROWS_WITH(write_safetensors_streamed(file, list, [&](size_t i) {
                      if (i == 1) fail("producer failed");
                      return t;
                    }),
                    Catch::Contains("producer failed"));
  CHECK(read_all(file) == before);
  CHECK(entries(dir) == 1);
  CHECK(SafetensorsFile::open(file)->tensors().size() == 1);
}
