#include "vlm/io/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "vlm/util/error.hpp"

namespace vlm {
namespace fs = std::filesystem;

namespace {

void sync_file(const fs::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("{}: cannot reopen to flush: {}", file.string(), std::strerror(errno));
  const int status = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (status != 0) fail("{}: cannot flush to disk: {}", file.string(), std::strerror(error));
}

}  // namespace

fs::path temporary_path_for(const fs::path& path) {
  static std::atomic<uint64_t> counter{0};
  return path.parent_path() / fmt::format(".{}.{}-{}.tmp{}", path.stem().string(), ::getpid(), counter++,
                                          path.extension().string());
}

void fsync_directory(const fs::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

void write_atomically(const fs::path& path, const std::function<void(const fs::path&)>& write, Durability durability) {
  const fs::path temporary = temporary_path_for(path);
  try {
    write(temporary);
    if (durability == Durability::Sync) sync_file(temporary);
    std::error_code error;
    fs::rename(temporary, path, error);
    if (error) fail("{}: cannot move the written file into place: {}", path.string(), error.message());
  } catch (...) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw;
  }
  if (durability == Durability::Sync) fsync_directory(path.parent_path());
}

void write_text_atomically(const fs::path& path, std::string_view text, Durability durability) {
  write_atomically(path, [&](const fs::path& temporary) {
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) fail("{}: cannot write: {}", path.string(), std::strerror(errno));
    size_t done = 0;
    while (done < text.size()) {
      const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        const int error = errno;
        ::close(fd);
        fail("{}: cannot write: {}", path.string(), std::strerror(error));
      }
      done += size_t(n);
    }
    if (::close(fd) != 0) fail("{}: cannot write: {}", path.string(), std::strerror(errno));
  }, durability);
}

}  // namespace vlm
