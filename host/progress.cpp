#include "progress.hpp"

#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

namespace vlm::host {

namespace {

std::string duration(double seconds) {
  if (!(seconds >= 0) || seconds > 1e7) return "?";
  const auto s = int64_t(seconds + 0.5);
  if (s >= 3600) return fmt::format("{}h{:02}m", s / 3600, s % 3600 / 60);
  if (s >= 60) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}s", s);
}

}  // namespace

Progress::Progress(std::string label, int64_t total, std::string unit, double interval_seconds, int64_t already_done)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_(total),
      done_(already_done),
      first_(already_done),
      terminal_(isatty(STDERR_FILENO) != 0),
      interval_(interval_seconds),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

void Progress::update(int64_t done) {
  done_ = done;
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_draw_).count();
  if (since < (terminal_ ? 0.2 : interval_) && done_ < total_) return;
  last_draw_ = now;
  draw(false);
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  if (terminal_ || drawn_ != done_) draw(true);  // not the same plain line twice
}

void Progress::draw(bool final) {
  drawn_ = done_;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = elapsed > 0 ? double(done_ - first_) / elapsed : 0;
  const std::string eta = rate > 0 && done_ < total_ ? "ETA " + duration(double(total_ - done_) / rate)
                                                     : "in " + duration(elapsed);
  const std::string counts = fmt::format("{}/{} {}  {:.2f} {}/s  {}", done_, total_, unit_, rate, unit_, eta);
  if (terminal_) {
    constexpr int kWidth = 24;
    const int filled = total_ > 0 ? int(double(kWidth) * double(done_) / double(total_)) : kWidth;
    fmt::print(stderr, "\r{} [{}{}] {}\033[K{}", label_, std::string(size_t(filled), '#'),
               std::string(size_t(kWidth - filled), '.'), counts, final ? "\n" : "");
  } else {
    fmt::print(stderr, "{}: {}\n", label_, counts);
  }
  std::fflush(stderr);
}

}  // namespace vlm::host
