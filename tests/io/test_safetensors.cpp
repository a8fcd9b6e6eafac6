// Safetensors: round trips, and every way a file can lie must be a clear error, never a crash.
#include <fstream>

#include <catch2/catch.hpp>

#include "support/shared_data.hpp"
#include "vlm/io/config.hpp"
#include "vlm/io/safetensors.hpp"

using namespace vlm;
namespace fs = std::filesystem;

namespace {

// Writes a file with an arbitrary header and `data_bytes` zero bytes after it.
fs::path write_raw(const fs::path& dir, const std::string& header, size_t data_bytes, const std::string& name = "t.safetensors") {
  const fs::path path = dir / name;
  std::ofstream out(path, std::ios::binary);
  const uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out.put(char((n >> (8 * i)) & 0xff));
  out << header;
  out << std::string(data_bytes, '\0');
  return path;
}

std::string error_of(const fs::path& path) {
  try {
    SafetensorsFile::open(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("safetensors round trip keeps dtype, shape and bytes; views are borrowed", "[io][safetensors]") {
  const auto dir = test::temp_dir("st");
  Tensor a = Tensor::zeros(Shape{2, 3}, DType::F32);
  for (int i = 0; i < 6; ++i) a.data<float>()[i] = float(i) * 0.5f;
  Tensor b = Tensor::zeros(Shape{4}, DType::BF16);
  for (int i = 0; i < 4; ++i) b.data<uint16_t>()[i] = f32_to_bf16(float(i) - 1.5f);
  Tensor c = Tensor::zeros(Shape{3}, DType::I64);
  c.data<int64_t>()[2] = -7;
  write_safetensors(dir / "x.safetensors", {{"a", a}, {"b.weight", b}, {"c", c}}, {{"format", "pt"}});

  Tensor view;
  {
    auto file = SafetensorsFile::open(dir / "x.safetensors");
    REQUIRE(file->tensors().size() == 3);
    REQUIRE(file->metadata().at("format") == "pt");
    const Tensor ta = file->tensor("a");
    CHECK(ta.dtype() == DType::F32);
    CHECK(ta.shape() == Shape{2, 3});
    CHECK(ta.data<float>()[5] == 2.5f);
    CHECK(file->tensor("b.weight").item(0) == -1.5);
    CHECK(file->tensor("c").item(2) == -7);
    view = file->tensor("a");
    CHECK_THROWS_WITH(file->tensor("nope"), Catch::Contains("no tensor named 'nope'"));
  }
  // The view keeps the mapping alive after the file object is gone.
  CHECK(view.data<float>()[1] == 0.5f);
}

TEST_CASE("safetensors rejects corrupt files with the file and tensor named", "[io][safetensors]") {
  const auto dir = test::temp_dir("st-bad");

  SECTION("shorter than the length prefix") {
    std::ofstream(dir / "short.safetensors") << "abc";
    CHECK_THAT(error_of(dir / "short.safetensors"), Catch::Contains("short.safetensors") && Catch::Contains("8-byte"));
  }
  SECTION("header length beyond the file (truncated)") {
    const auto p = dir / "trunc.safetensors";
    {
      std::ofstream out(p, std::ios::binary);
      const uint64_t n = 1000;
      for (int i = 0; i < 8; ++i) out.put(char((n >> (8 * i)) & 0xff));
      out << "{}";
    }
    CHECK_THAT(error_of(p), Catch::Contains("header length 1000"));
  }
  SECTION("header is not JSON") {
    CHECK_THAT(error_of(write_raw(dir, "{not json", 0)), Catch::Contains("not valid JSON"));
  }
  SECTION("a header nested a million levels deep is refused before it is parsed") {
    const std::string deep = "{\"__metadata__\":" + std::string(1000000, '[') + std::string(1000000, ']') + "}";
    CHECK_THAT(error_of(write_raw(dir, deep, 0)), Catch::Contains("t.safetensors") && Catch::Contains("nested deeper"));
  }
  SECTION("offsets past the end of the data") {
    const auto p = write_raw(dir, R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8);
    CHECK_THAT(error_of(p), Catch::Contains("tensor 'w'") && Catch::Contains("past the end"));
  }
  SECTION("size does not match shape x dtype") {
    const auto p = write_raw(dir, R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}})", 16);
    CHECK_THAT(error_of(p), Catch::Contains("tensor 'w'") && Catch::Contains("needs 12"));
  }
  SECTION("overlapping tensors") {
    const auto p = write_raw(
        dir, R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", 16);
    CHECK_THAT(error_of(p), Catch::Contains("overlap"));
  }
  SECTION("reversed offsets") {
    const auto p = write_raw(dir, R"({"a":{"dtype":"U8","shape":[0],"data_offsets":[8,4]}})", 8);
    CHECK_THAT(error_of(p), Catch::Contains("reversed"));
  }
  SECTION("unsupported dtype") {
    const auto p = write_raw(dir, R"({"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}})", 8);
    CHECK_THAT(error_of(p), Catch::Contains("unsupported dtype F64"));
  }
  SECTION("shape that overflows") {
    const auto p = write_raw(
        dir, R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,8]}})", 8);
    CHECK_THAT(error_of(p), Catch::Contains("overflows"));
  }
  SECTION("negative dimension") {
    const auto p = write_raw(dir, R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4);
    CHECK_THAT(error_of(p), Catch::Contains("tensor 'a'"));
  }
  SECTION("missing fields") {
    CHECK_THAT(error_of(write_raw(dir, R"({"a":{"shape":[1],"data_offsets":[0,4]}})", 4)), Catch::Contains("missing dtype"));
    CHECK_THAT(error_of(write_raw(dir, R"({"a":{"dtype":"F32","data_offsets":[0,4]}})", 4)), Catch::Contains("missing shape"));
    CHECK_THAT(error_of(write_raw(dir, R"({"a":{"dtype":"F32","shape":[1]}})", 4)), Catch::Contains("data_offsets"));
  }
  SECTION("missing file") { CHECK_THAT(error_of(dir / "absent.safetensors"), Catch::Contains("cannot open")); }
}

TEST_CASE("safetensors survives random corruption of a valid file", "[io][safetensors][fuzz]") {
  const auto dir = test::temp_dir("st-fuzz");
  Tensor a = Tensor::zeros(Shape{8, 8}, DType::F32);
  write_safetensors(dir / "ok.safetensors", {{"a", a}, {"b", Tensor::zeros(Shape{5}, DType::BF16)}});
  std::string bytes;
  {
    std::ifstream in(dir / "ok.safetensors", std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  uint64_t state = 12345;
  auto next = [&] { return state = state * 6364136223846793005ull + 1442695040888963407ull; };
  int errors = 0;
  for (int trial = 0; trial < 300; ++trial) {
    std::string corrupted = bytes;
    const int flips = 1 + int(next() % 4);
    for (int f = 0; f < flips; ++f) corrupted[next() % corrupted.size()] = char(next() >> 56);
    if (trial % 3 == 0) corrupted.resize(next() % corrupted.size());  // truncation
    const auto p = dir / "fuzz.safetensors";
    std::ofstream(p, std::ios::binary | std::ios::trunc) << corrupted;
    try {
      auto file = SafetensorsFile::open(p);
      for (const auto& t : file->tensors()) {
        const Tensor v = file->tensor(t.name);
        if (v.nbytes()) [[maybe_unused]] volatile uint8_t last = static_cast<const uint8_t*>(v.raw())[v.nbytes() - 1];
      }
    } catch (const Error&) {
      ++errors;
    }
  }
  CHECK(errors > 0);  // most corruptions are detected; the rest must still be in bounds (ASan/valgrind)
}
