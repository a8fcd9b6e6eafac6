#pragma once
// Files vlm writes appear whole or not at all: the contents go to a temporary file in the same folder,
// which is then renamed over the final name (atomic on POSIX file systems). A crash, a full disk or two
// processes writing the same file never leave a half-written file under the final name.
#include <filesystem>
#include <functional>
#include <string_view>

namespace vlm {

// Whether the data is flushed to disk before the rename (fsync of the file and its folder): for small
// records that must survive a power cut (evaluation results); large regenerable outputs (dumps, caches,
// synthetic checkpoints) skip it, since only a process crash needs guarding against there.
enum class Durability { Rename, Sync };

// A unique temporary name beside `path` that keeps its extension (image writers choose the format by it):
// "<dir>/.<stem>.<pid>-<n>.tmp<ext>".
std::filesystem::path temporary_path_for(const std::filesystem::path& path);

// Calls write(temporary), then renames the temporary over `path`. If write throws or the rename fails,
// the temporary is removed and the error (naming `path`) propagates.
void write_atomically(const std::filesystem::path& path, const std::function<void(const std::filesystem::path&)>& write,
                      Durability durability = Durability::Rename);
void write_text_atomically(const std::filesystem::path& path, std::string_view text,
                           Durability durability = Durability::Rename);

// fsync of a folder, so a rename or a new file in it survives a power cut. Best effort.
void fsync_directory(const std::filesystem::path& dir);

}  // namespace vlm
