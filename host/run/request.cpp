#include "request.hpp"

#include <filesystem>

#include "../json_io.hpp"
#include "vlm/image/load.hpp"
#include "vlm/image/video_sampling.hpp"
#include "vlm/util/error.hpp"

namespace vlm::host {
namespace fs = std::filesystem;

namespace {

Video load_video(const fs::path& path, const ImageLoadOptions& options) {
  if (fs::is_directory(path)) return load_video_frames(path, options);
  fail("{}: video files are not supported yet; pass a folder of frames (used in name order)", path.string());
}

// Finds the local file an image/video content item refers to.
fs::path media_path(const OrderedJson& item, const char* kind, const fs::path& base, const std::string& where) {
  for (const char* key : {"path", kind, "url"}) {
    if (!item.contains(key) || !item[key].is_string()) continue;
    std::string value = item[key].get<std::string>();
    if (value.starts_with("file://")) value = value.substr(7);
    if (value.starts_with("http://") || value.starts_with("https://"))
      fail("{}: {} '{}' is a URL; vlm never downloads, give a local path", where, kind, value);
    fs::path p(value);
    return p.is_absolute() ? p : base / p;
  }
  fail("{}: a {} item needs a \"path\" naming its file", where, kind);
}

// A video item: its frames, sampled with the keys qwen-vl-utils reads (nframes, or fps + the folder's
// source_fps).
Video load_video_item(const OrderedJson& item, const fs::path& base, const std::string& where,
                      const ImageLoadOptions& options) {
  Video video = load_video(media_path(item, "video", base, where), options);
  FrameSampling sampling;
  try {
    if (item.contains("nframes")) sampling.frames = item["nframes"].get<int64_t>();
    if (item.contains("fps")) sampling.fps = item["fps"].get<double>();
    if (item.contains("source_fps")) video.fps = item["source_fps"].get<double>();
  } catch (const OrderedJson::exception&) {
    fail("{}: video nframes / fps / source_fps must be numbers", where);
  }
  sample_frames(video, sampling);
  return video;
}

Prompt conversation_to_prompt(const OrderedJson& messages, const fs::path& base, const std::string& where) {
  if (!messages.is_array() || messages.empty()) fail("{}: a conversation must be a non-empty list of messages", where);
  Prompt prompt;
  prompt.messages = messages;
  RequestPixels pixels;  // the conversation's images and frames together
  ImageLoadOptions options;
  options.request = &pixels;
  for (size_t m = 0; m < messages.size(); ++m) {
    const auto& message = messages[m];
    const std::string at = fmt::format("{}: message {}", where, m);
    if (!message.is_object() || !message.contains("role") || !message.contains("content"))
      fail("{}: needs \"role\" and \"content\"", at);
    const auto& content = message["content"];
    if (content.is_string()) continue;
    if (!content.is_array()) fail("{}: content must be a string or a list of items", at);
    for (size_t i = 0; i < content.size(); ++i) {
      const OrderedJson& item = content[i];
      if (!item.is_object()) fail("{}: content item {} must be an object, not {}", at, i, item.type_name());
      if (item.contains("type") && !item["type"].is_string())
        fail("{}: content item {}: \"type\" must be a string", at, i);
      const std::string type = item.value("type", "");
      if (type == "image" || (type.empty() && item.contains("image")))
        prompt.images.push_back(load_image(media_path(item, "image", base, at), options));
      else if (type == "video" || (type.empty() && item.contains("video")))
        prompt.videos.push_back(load_video_item(item, base, at, options));
      else if (type != "text" && !type.empty())
        fail("{}: content item type '{}' is not supported (text, image, video)", at, type);
    }
  }
  return prompt;
}

}  // namespace

Prompt prompt_from_text(const std::string& text, const std::vector<std::string>& images,
                        const std::vector<std::string>& videos, bool raw) {
  Prompt prompt;
  RequestPixels pixels;  // the prompt's images and frames together
  ImageLoadOptions options;
  options.request = &pixels;
  for (const auto& path : images) prompt.images.push_back(load_image(path, options));
  for (const auto& path : videos) prompt.videos.push_back(load_video(path, options));
  if (raw) {
    prompt.raw = text;
    return prompt;
  }
  OrderedJson content = OrderedJson::array();
  for (size_t i = 0; i < images.size(); ++i) content.push_back({{"type", "image"}});
  for (size_t i = 0; i < videos.size(); ++i) content.push_back({{"type", "video"}});
  content.push_back({{"type", "text"}, {"text", text}});
  prompt.messages = OrderedJson::array({{{"role", "user"}, {"content", content}}});
  return prompt;
}

std::vector<Prompt> prompts_from_messages_file(const std::string& path) {
  const OrderedJson json = read_json_file(path);
  const fs::path base = fs::path(path).parent_path();
  std::vector<Prompt> prompts;
  std::string where = path;
  try {
    if (json.is_array() && !json.empty() && json[0].is_array()) {
      for (size_t i = 0; i < json.size(); ++i) {
        where = fmt::format("{}: conversation {}", path, i);
        prompts.push_back(conversation_to_prompt(json[i], base, where));
      }
    } else {
      prompts.push_back(conversation_to_prompt(json, base, path));
    }
  } catch (const OrderedJson::exception& e) {  // a value of a type the checks above did not foresee
    fail("{}: unexpected JSON: {}", where, e.what());
  }
  return prompts;
}

}  // namespace vlm::host
