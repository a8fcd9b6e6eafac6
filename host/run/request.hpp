#pragma once
// Turns `vlm run`'s inputs (--prompt / --raw / --messages, --image, --video) into Prompts with their media
// loaded, in the order the chat template will see them.
#include <string>
#include <vector>

#include "vlm/model/components.hpp"

namespace vlm::host {

// One user turn: the images, then the videos, then the text (HF's usual single-turn layout).
Prompt prompt_from_text(const std::string& text, const std::vector<std::string>& images,
                        const std::vector<std::string>& videos, bool raw);

// An HF-style conversation file: a list of messages, or a list of conversations (a batch). Image and
// video items name their files with "path" (also accepted: "image" / "video" / "url" holding a local
// path); relative paths are relative to the file. A video path may be a folder of frames.
std::vector<Prompt> prompts_from_messages_file(const std::string& path);

}  // namespace vlm::host
