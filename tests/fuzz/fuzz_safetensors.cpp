// safetensors header and tensor table: SafetensorsFile::open validates everything before a tensor is
// handed out; every view it then gives must lie inside the mapping (touching its first and last byte
// would fault otherwise).
#include "fuzz_support.hpp"
#include "vlm/io/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = vlm::fuzz::write_scratch("model.safetensors", data, size);
  vlm::fuzz::expect_errors([&] {
    const auto file = vlm::SafetensorsFile::open(path);
    volatile uint8_t sink = 0;
    for (const vlm::TensorInfo& info : file->tensors()) {
      const vlm::Tensor tensor = file->tensor(info.name);
      if (info.nbytes == 0) continue;
      const auto* bytes = static_cast<const uint8_t*>(tensor.raw());
      sink = sink + bytes[0] + bytes[info.nbytes - 1];
    }
    for (const auto& [key, value] : file->metadata()) sink = sink + uint8_t(key.size() + value.size());
  });
  return 0;
}
