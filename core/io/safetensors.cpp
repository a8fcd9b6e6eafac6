#include "vlm/io/safetensors.hpp"

#include "vlm/io/atomic_file.hpp"

#include <algorithm>
#include <fstream>
#include <limits>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vlm/io/config.hpp"
#include "vlm/util/error.hpp"

namespace vlm {

namespace {

// The format caps headers at 100 MB; anything larger is corruption, not a model.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

uint64_t read_le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// a * b with overflow detection (hostile headers can claim astronomically large shapes).
bool mul_overflows(uint64_t a, uint64_t b, uint64_t& out) { return __builtin_mul_overflow(a, b, &out); }

}  // namespace

std::shared_ptr<const SafetensorsFile> SafetensorsFile::open(const std::filesystem::path& path) {
  const std::string file = path.string();
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("{}: cannot open: {}", file, std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    fail("{}: cannot stat: {}", file, std::strerror(errno));
  }
  const auto size = uint64_t(st.st_size);
  if (size < 8) {
    ::close(fd);
    fail("{}: not a safetensors file: {} bytes, shorter than the 8-byte header length", file, size);
  }
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) fail("{}: cannot memory-map: {}", file, std::strerror(errno));

  std::shared_ptr<SafetensorsFile> self(new SafetensorsFile());
  self->path_ = path;
  self->map_ = map;
  self->map_size_ = size;

  const auto* bytes = static_cast<const uint8_t*>(map);
  const uint64_t header_len = read_le64(bytes);
  if (header_len > kMaxHeaderBytes || header_len > size - 8)
    fail("{}: header length {} is impossible for a file of {} bytes (truncated or not safetensors)", file,
         header_len, size);
  const std::string_view header_text(reinterpret_cast<const char*>(bytes + 8), header_len);
  Json header;
  try {
    check_json_depth(header_text, file);
    header = Json::parse(header_text);
  } catch (const Json::exception& e) {
    fail("{}: header is not valid JSON: {}", file, e.what());
  }
  if (!header.is_object()) fail("{}: header is not a JSON object", file);
  self->data_ = bytes + 8 + header_len;
  const uint64_t data_size = size - 8 - header_len;

  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const Json& entry = it.value();
    if (name == "__metadata__") {
      if (!entry.is_object()) fail("{}: __metadata__ is not an object", file);
      for (auto m = entry.begin(); m != entry.end(); ++m) {
        if (!m.value().is_string()) fail("{}: __metadata__.{} is not a string", file, m.key());
        self->metadata_[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    auto bad = [&](std::string_view what) { fail("{}: tensor '{}': {}", file, name, what); };
    if (!entry.is_object()) bad("header entry is not an object");
    if (!entry.contains("dtype") || !entry["dtype"].is_string()) bad("missing dtype");
    if (!entry.contains("shape") || !entry["shape"].is_array()) bad("missing shape");
    if (!entry.contains("data_offsets") || !entry["data_offsets"].is_array() || entry["data_offsets"].size() != 2)
      bad("missing data_offsets [begin, end]");
    const auto dtype_text = entry["dtype"].get<std::string>();
    const auto dtype = dtype_from_safetensors(dtype_text);
    if (!dtype) bad(fmt::format("unsupported dtype {}", dtype_text));
    const Json& shape_json = entry["shape"];
    if (shape_json.size() > size_t(Shape::kMaxRank)) bad(fmt::format("rank {} is too large", shape_json.size()));
    std::vector<int64_t> dims;
    uint64_t numel = 1;
    for (const Json& d : shape_json) {
      if (!d.is_number_unsigned()) bad(fmt::format("shape {} has a non-integer or negative dimension", shape_json.dump()));
      const uint64_t v = d.get<uint64_t>();
      if (v > uint64_t(std::numeric_limits<int64_t>::max()) || mul_overflows(numel, v, numel))
        bad(fmt::format("shape {} overflows", shape_json.dump()));
      dims.push_back(int64_t(v));
    }
    const Json& offsets = entry["data_offsets"];
    if (!offsets[0].is_number_unsigned() || !offsets[1].is_number_unsigned()) bad("data_offsets are not unsigned integers");
    const uint64_t begin = offsets[0].get<uint64_t>(), end = offsets[1].get<uint64_t>();
    if (begin > end) bad(fmt::format("data_offsets [{}, {}] are reversed", begin, end));
    if (end > data_size)
      bad(fmt::format("data_offsets [{}, {}] run past the end of the data ({} bytes; file truncated?)", begin, end,
                      data_size));
    uint64_t expected = 0;
    if (mul_overflows(numel, dtype_size(*dtype), expected) || expected != end - begin)
      bad(fmt::format("holds {} bytes but shape {} x {} needs {}", end - begin, shape_json.dump(), dtype_text,
                      numel * dtype_size(*dtype)));
    TensorInfo info{name, *dtype, Shape(std::span<const int64_t>(dims)), begin, end - begin};
    self->index_[name] = self->tensors_.size();
    self->tensors_.push_back(std::move(info));
  }

  // Overlapping byte ranges mean the header lies about where tensors are.
  std::vector<const TensorInfo*> by_offset;
  for (const auto& t : self->tensors_) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const TensorInfo* a, const TensorInfo* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const TensorInfo& prev = *by_offset[i - 1];
    const TensorInfo& cur = *by_offset[i];
    if (cur.nbytes && prev.offset + prev.nbytes > cur.offset)
      fail("{}: tensors '{}' and '{}' overlap in the data section", file, prev.name, cur.name);
  }
  self->self_ = self;
  return self;
}

SafetensorsFile::~SafetensorsFile() {
  if (map_) ::munmap(map_, map_size_);
}

const TensorInfo* SafetensorsFile::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

Tensor SafetensorsFile::tensor(const std::string& name) const {
  const TensorInfo* info = find(name);
  if (!info) fail("{}: no tensor named '{}'", path_.string(), name);
  auto keep_alive = self_.lock();
  return Tensor::borrow(const_cast<uint8_t*>(data_ + info->offset), info->shape, info->dtype, Device::cpu(),
                        std::static_pointer_cast<const void>(keep_alive));
}

void write_safetensors_streamed(const std::filesystem::path& path, const std::vector<SafetensorsEntry>& entries,
                                const std::function<Tensor(size_t)>& produce,
                                const std::map<std::string, std::string>& metadata) {
  Json header = Json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto& e : entries) {
    const uint64_t bytes = uint64_t(e.shape.numel()) * dtype_size(e.dtype);
    std::vector<int64_t> dims(e.shape.dims().begin(), e.shape.dims().end());
    header[e.name] = {{"dtype", std::string(dtype_safetensors_name(e.dtype))},
                      {"shape", dims},
                      {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // keep the data section 8-byte aligned

  write_atomically(path, [&](const std::filesystem::path& tmp) {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) fail("{}: cannot write", path.string());
    uint8_t len[8];
    for (int i = 0; i < 8; ++i) len[i] = uint8_t(uint64_t(text.size()) >> (8 * i));
    out.write(reinterpret_cast<const char*>(len), 8);
    out.write(text.data(), std::streamsize(text.size()));
    for (size_t i = 0; i < entries.size(); ++i) {
      const Tensor t = produce(i);
      if (!t.is_host() || t.dtype() != entries[i].dtype || !(t.shape() == entries[i].shape))
        fail("write_safetensors: tensor '{}' produced as {} {}, declared {} {}", entries[i].name,
             dtype_name(t.dtype()), t.shape().str(), dtype_name(entries[i].dtype), entries[i].shape.str());
      out.write(static_cast<const char*>(t.raw()), std::streamsize(t.nbytes()));
    }
    if (!out.flush()) fail("{}: write failed (disk full?)", path.string());
  });
}

void write_safetensors(const std::filesystem::path& path,
                       const std::vector<std::pair<std::string, Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::vector<SafetensorsEntry> entries;
  for (const auto& [name, t] : tensors) {
    if (!t.is_host()) fail("write_safetensors: tensor '{}' is not on the host", name);
    entries.push_back({name, t.dtype(), t.shape()});
  }
  write_safetensors_streamed(path, entries, [&](size_t i) { return tensors[i].second; }, metadata);
}

}  // namespace vlm
