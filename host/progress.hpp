#pragma once
// Progress of a long command on stderr (stdout carries results only): on a terminal, one line redrawn in
// place (label, bar, done/total, rate, ETA); otherwise a plain line every `interval` seconds and at the end,
// so logs of batch jobs stay readable.
#include <chrono>
#include <cstdint>
#include <string>

namespace vlm::host {

class Progress {
 public:
  // Rates and the ETA count from construction: make it when the work starts. `already_done` (a resumed
  // run) counts toward done/total but not toward the rate.
  Progress(std::string label, int64_t total, std::string unit, double interval_seconds = 10.0, int64_t already_done = 0);
  void update(int64_t done);  // cheap: redraws at most a few times a second
  void finish();              // the final line (done == total or wherever it stopped)

 private:
  void draw(bool final);
  std::string label_, unit_;
  int64_t total_ = 0, done_ = 0, drawn_ = -1, first_ = 0;
  bool terminal_ = false, finished_ = false;
  double interval_ = 10.0;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace vlm::host
