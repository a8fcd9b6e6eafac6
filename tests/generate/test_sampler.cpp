// Sampler: Hugging Face's logits processors (transformers 4.47) in HF's order. Filters are observed through
// the empirical distribution of many draws with a fixed seed, so every statistical check is deterministic:
// it either always passes or always fails.
#include <cmath>
#include <limits>
#include <map>
#include <vector>

#include <catch2/catch.hpp>

#include "vlm/generate/sampler.hpp"

using namespace vlm;

namespace {

constexpr float kMinusInf = -std::numeric_limits<float>::infinity();

GenerationConfig sampling(uint64_t seed = 1234) {
  GenerationConfig c;
  c.do_sample = true;
  c.top_k = 0;  // every filter off unless a test turns it on
  c.seed = seed;
  return c;
}

// Logits whose softmax is exactly `probs` (up to float rounding).
std::vector<float> logits_of(const std::vector<double>& probs) {
  std::vector<float> out;
  for (double p : probs) out.push_back(p > 0 ? float(std::log(p)) : kMinusInf);
  return out;
}

// Frequencies of each token over `draws` calls of one Sampler (its generator advances between draws).
std::vector<double> frequencies(const GenerationConfig& config, const std::vector<float>& logits, int draws) {
  Sampler sampler(config);
  std::vector<double> freq(logits.size(), 0.0);
  for (int i = 0; i < draws; ++i) {
    std::vector<float> scratch = logits;  // next() modifies its input
    const int64_t token = sampler.next(scratch, {}, 0);
    if (token < 0 || token >= int64_t(logits.size())) FAIL("token " << token << " outside the vocabulary");
    freq[size_t(token)] += 1.0 / draws;
  }
  return freq;
}

// Draw count and tolerance for frequency checks: with 20000 draws the standard deviation of a frequency
// is at most sqrt(0.25 / 20000) = 0.0035, so 0.02 is more than 5 sigma; a filtered-out token must never
// appear at all.
constexpr int kDraws = 20000;
constexpr double kFrequencyTolerance = 0.02;

void check_distribution(const std::vector<double>& got, const std::vector<double>& want) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("token " << i << ": frequency " << got[i] << ", expected " << want[i] << " (tolerance "
                  << kFrequencyTolerance << ")");
    if (want[i] == 0.0)
      CHECK(got[i] == 0.0);
    else
      CHECK(std::abs(got[i] - want[i]) <= kFrequencyTolerance);
  }
}

std::vector<double> normalized(std::vector<double> p) {
  double sum = 0;
  for (double x : p) sum += x;
  for (double& x : p) x /= sum;
  return p;
}

}  // namespace

TEST_CASE("greedy picks the first maximum, like torch.argmax", "[generate][sampler]") {
  Sampler greedy{GenerationConfig{}};
  std::vector<float> logits{1.0f, 5.0f, 5.0f, 2.0f};
  CHECK(greedy.next(logits, {}, 0) == 1);
  std::vector<float> last{0.0f, -1.0f, 3.0f};
  CHECK(greedy.next(last, {}, 0) == 2);
}

TEST_CASE("greedy ignores the sampling filters and the seed", "[generate][sampler]") {
  GenerationConfig c;
  c.top_k = 1;
  c.top_p = 0.1;
  c.temperature = 5.0;
  c.seed = 99;
  Sampler greedy(c);
  std::vector<float> logits{0.1f, 0.3f, 0.2f};
  CHECK(greedy.next(logits, {}, 0) == 1);
  CHECK(logits == std::vector<float>{0.1f, 0.3f, 0.2f});  // temperature is a sampling-only warper
}

TEST_CASE("repetition penalty is HF's: divide positive, multiply negative, once per distinct id",
          "[generate][sampler]") {
  GenerationConfig c;
  c.repetition_penalty = 2.0;
  Sampler sampler(c);
  std::vector<float> logits{2.0f, -1.0f, 1.5f, 0.5f, 0.0f};
  // Prompt + generated history; id 0 appears three times and must still be penalised only once.
  const std::vector<int64_t> history{0, 1, 0, 4, 0};
  const int64_t token = sampler.next(logits, history, 0);
  CHECK(logits[0] == 1.0f);   // 2.0 / 2, not 2.0 / 8
  CHECK(logits[1] == -2.0f);  // -1.0 * 2
  CHECK(logits[2] == 1.5f);   // not in the history
  CHECK(logits[3] == 0.5f);
  CHECK(logits[4] == 0.0f);   // 0 is not < 0: divided, still 0
  CHECK(token == 2);          // the penalty moved the argmax
}

TEST_CASE("repetition penalty below 1 rewards repeats, and ids outside the vocabulary are ignored",
          "[generate][sampler]") {
  GenerationConfig c;
  c.repetition_penalty = 0.5;
  Sampler sampler(c);
  std::vector<float> logits{1.0f, -4.0f, 1.5f};
  const std::vector<int64_t> history{0, 1, -1, 3, 1000};  // -1 and >= vocab: e.g. sentinel / foreign ids
  CHECK(sampler.next(logits, history, 0) == 0);
  CHECK(logits == std::vector<float>{2.0f, -2.0f, 1.5f});
}

TEST_CASE("min_new_tokens masks every eos id until enough tokens exist", "[generate][sampler]") {
  GenerationConfig c;
  c.eos_token_ids = {1, 3};
  c.min_new_tokens = 2;
  Sampler sampler(c);
  const std::vector<float> logits{0.0f, 9.0f, 1.0f, 8.0f};
  for (int64_t generated : {0, 1}) {
    std::vector<float> l = logits;
    CHECK(sampler.next(l, {}, generated) == 2);
    CHECK(l[1] == kMinusInf);
    CHECK(l[3] == kMinusInf);
  }
  std::vector<float> l = logits;
  CHECK(sampler.next(l, {}, 2) == 1);  // the minimum is reached: eos is allowed again
  CHECK(l == logits);
}

TEST_CASE("temperature divides the logits before the filters", "[generate][sampler]") {
  GenerationConfig c = sampling();
  c.temperature = 0.5;
  Sampler sampler(c);
  std::vector<float> logits{1.0f, -2.0f, 0.25f};
  sampler.next(logits, {}, 0);
  CHECK(logits == std::vector<float>{2.0f, -4.0f, 0.5f});

  // Distribution check: probabilities proportional to p^(1/T) = p^2 for T = 0.5.
  const std::vector<double> p{0.5, 0.3, 0.2};
  check_distribution(frequencies(c, logits_of(p), kDraws), normalized({0.25, 0.09, 0.04}));
}

TEST_CASE("sampling follows the distribution", "[generate][sampler]") {
  // The brief's 10k draws of a 3-token distribution; standard deviation <= 0.005, tolerance 0.02.
  const std::vector<double> p{0.6, 0.3, 0.1};
  check_distribution(frequencies(sampling(7), logits_of(p), 10000), p);
  // A token with zero probability (-inf logit) is never drawn.
  check_distribution(frequencies(sampling(8), logits_of({0.5, 0.0, 0.5}), kDraws), {0.5, 0.0, 0.5});
}

TEST_CASE("sampling with a fixed seed is reproducible", "[generate][sampler]") {
  const std::vector<float> logits(16, 0.0f);  // uniform over 16 tokens: sequences differ visibly by seed
  auto draw = [&](uint64_t seed) {
    Sampler sampler(sampling(seed));
    std::vector<int64_t> ids;
    for (int i = 0; i < 64; ++i) {
      std::vector<float> l = logits;
      ids.push_back(sampler.next(l, {}, i));
    }
    return ids;
  };
  CHECK(draw(5) == draw(5));
  CHECK(draw(5) != draw(6));
  // A copied Sampler continues the same stream: generate() gives each row its own copy.
  Sampler a(sampling(3));
  Sampler b = a;
  for (int i = 0; i < 8; ++i) {
    std::vector<float> la = logits, lb = logits;
    CHECK(a.next(la, {}, i) == b.next(lb, {}, i));
  }
}

TEST_CASE("top-k keeps the k best and every token tied with the k-th", "[generate][sampler]") {
  GenerationConfig c = sampling();
  c.top_k = 2;
  // Logits 3, 2, 2, 1: the k-th value (2) is tied, so HF keeps three tokens (scores >= 2).
  const std::vector<float> logits{3.0f, 2.0f, 2.0f, 1.0f};
  const double e3 = std::exp(3.0), e2 = std::exp(2.0);
  check_distribution(frequencies(c, logits, kDraws), normalized({e3, e2, e2, 0.0}));

  c.top_k = 1;
  check_distribution(frequencies(c, logits, 200), {1.0, 0.0, 0.0, 0.0});
  c.top_k = 10;  // larger than the vocabulary: no filtering
  check_distribution(frequencies(c, logits, kDraws), normalized({e3, e2, e2, std::exp(1.0)}));
}

TEST_CASE("top-p keeps the smallest prefix whose mass reaches top_p", "[generate][sampler]") {
  // HF's TopPLogitsWarper removes the tokens whose ascending cumulative probability is <= 1 - top_p, i.e.
  // keeps a token iff the mass strictly before it (descending) is < top_p. Probabilities 0.5, 0.3, 0.2;
  // every top_p below is 0.01 away from a boundary so float rounding cannot decide.
  const std::vector<float> logits = logits_of({0.5, 0.3, 0.2});
  GenerationConfig c = sampling();
  c.top_p = 0.49;  // the first token alone reaches it
  check_distribution(frequencies(c, logits, 200), {1.0, 0.0, 0.0});
  c.top_p = 0.51;  // 0.5 < 0.51: the second token is needed
  check_distribution(frequencies(c, logits, kDraws), {0.625, 0.375, 0.0});
  c.top_p = 0.79;
  check_distribution(frequencies(c, logits, kDraws), {0.625, 0.375, 0.0});
  c.top_p = 0.81;  // 0.8 < 0.81: all three
  check_distribution(frequencies(c, logits, kDraws), {0.5, 0.3, 0.2});
  c.top_p = 1e-6;  // never fewer than one token
  check_distribution(frequencies(c, logits, 200), {1.0, 0.0, 0.0});
}

TEST_CASE("top-p applies to the distribution after top-k", "[generate][sampler]") {
  // Probabilities 0.4, 0.3, 0.2, 0.1; top_k = 2 renormalises to 4/7, 3/7 (0.571, 0.429). top_p = 0.55 on
  // the renormalised mass keeps only the first token; on the raw mass (0.4 < 0.55) it would keep two.
  GenerationConfig c = sampling();
  c.top_k = 2;
  c.top_p = 0.55;
  check_distribution(frequencies(c, logits_of({0.4, 0.3, 0.2, 0.1}), 500), {1.0, 0.0, 0.0, 0.0});
}

TEST_CASE("temperature applies before top-p", "[generate][sampler]") {
  // Logits 2, 1, 0: at T=1 the probabilities are 0.665, 0.245, 0.090 and top_p = 0.7 keeps two tokens;
  // at T=100 they are nearly uniform (0.337, 0.333, 0.330) and the same top_p needs all three.
  const std::vector<float> logits{2.0f, 1.0f, 0.0f};
  GenerationConfig c = sampling();
  c.top_p = 0.7;
  const auto cold = frequencies(c, logits, kDraws);
  CHECK(cold[2] == 0.0);
  c.temperature = 100.0;
  const auto hot = frequencies(c, logits, kDraws);
  check_distribution(hot, normalized({std::exp(0.02), std::exp(0.01), 1.0}));
}

TEST_CASE("min-p removes tokens below min_p times the top probability", "[generate][sampler]") {
  // Probabilities 0.5, 0.3, 0.15, 0.05 and min_p = 0.2: threshold 0.1 removes only the last token.
  GenerationConfig c = sampling();
  c.min_p = 0.2;
  check_distribution(frequencies(c, logits_of({0.5, 0.3, 0.15, 0.05}), kDraws), normalized({0.5, 0.3, 0.15, 0.0}));
  // min_p = 0.7: threshold 0.35 keeps only the first token.
  c.min_p = 0.7;
  check_distribution(frequencies(c, logits_of({0.5, 0.3, 0.15, 0.05}), 200), {1.0, 0.0, 0.0, 0.0});
}

TEST_CASE("sampling also masks eos before min_new_tokens", "[generate][sampler]") {
  GenerationConfig c = sampling();
  c.eos_token_ids = {0};
  c.min_new_tokens = 1;
  // eos holds nearly all the mass but is masked at step 0.
  Sampler sampler(c);
  for (int i = 0; i < 100; ++i) {
    std::vector<float> logits{10.0f, 0.0f, 0.0f};
    CHECK(sampler.next(logits, {}, 0) != 0);
  }
}
