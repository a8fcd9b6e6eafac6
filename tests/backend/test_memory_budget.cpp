// The backend's memory budget: allocations are charged before they are made and credited back when the
// last view goes; one that would exceed the budget is an Error naming the sizes, and nothing is taken.
#include "backend/backend_test_util.hpp"
#include "vlm/backend/memory_budget.hpp"

namespace vlm::test {

TEST_CASE("MemoryBudget charges and credits back", "[cpu][memory_budget]") {
  MemoryBudget budget(1000, "test");
  auto a = budget.charge(600, Shape{150}, DType::F32);
  CHECK(budget.in_use() == 600);
  try {
    budget.charge(500, Shape{125}, DType::F32);
    FAIL("a charge beyond the limit must throw");
  } catch (const Error& e) {
    const std::string message = e.what();
    CHECK(message.find("test: a [125] f32 tensor") != std::string::npos);
    CHECK(message.find("memory budget") != std::string::npos);
  }
  CHECK(budget.in_use() == 600);  // the refused charge took nothing
  auto copy = a;
  a.reset();
  CHECK(budget.in_use() == 600);  // the charge lasts while any holder does
  copy.reset();
  CHECK(budget.in_use() == 0);
  CHECK_THROWS_AS(budget.charge(1001, Shape{1001}, DType::U8), Error);
  auto whole = budget.charge(1000, Shape{1000}, DType::U8);  // exactly the limit fits
  CHECK(budget.in_use() == 1000);

  MemoryBudget unlimited(0, "test");
  auto big = unlimited.charge(size_t(1) << 50, Shape{1}, DType::F32);
  CHECK(unlimited.in_use() == size_t(1) << 50);
}

TEST_CASE("the CPU backend refuses a tensor beyond its budget before allocating", "[cpu][memory_budget]") {
  BackendOptions options;
  options.memory_budget_bytes = size_t(1) << 20;  // 1 MiB
  const std::shared_ptr<Backend> backend = registry::create_backend("cpu", options);
  const auto in_use = [&] { return backend->report(false).at("memory_in_use_bytes").get<size_t>(); };
  CHECK(backend->report(false).at("memory_budget_bytes").get<size_t>() == size_t(1) << 20);
  {
    Tensor small = backend->zeros({128, 1024}, DType::F32);  // 512 KiB
    CHECK(in_use() == size_t(512) << 10);
    CHECK(small.data<float>()[small.numel() - 1] == 0.0f);
    try {
      backend->empty({1024, 1024}, DType::F32);  // 4 MiB
      FAIL("the budget must refuse a 4 MiB tensor");
    } catch (const Error& e) {
      const std::string message = e.what();
      INFO(message);
      CHECK(message.find("cpu: a [1024, 1024] f32 tensor needs 4.0 MiB with 512.0 KiB in use, above the memory budget of 1.0 MiB") != std::string::npos);
      CHECK(message.find("--memory-budget") != std::string::npos);
    }
    CHECK(in_use() == size_t(512) << 10);
  }
  CHECK(in_use() == 0);  // credited back with the tensor

  options.memory_budget_bytes = 0;  // no limit
  const std::shared_ptr<Backend> unlimited = registry::create_backend("cpu", options);
  CHECK(unlimited->report(false).at("memory_budget_bytes").get<size_t>() == 0);
  CHECK_NOTHROW(unlimited->empty({1024, 1024}, DType::F32));
}

}  // namespace vlm::test
