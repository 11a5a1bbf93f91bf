// Deterministic pseudo-random numbers for the synthetic image generators.
//
// The engine is xoshiro256** seeded through SplitMix64. The distributions are written
// here instead of taken from <random>, whose distribution classes produce different
// sequences in different standard libraries, so one seed gives the same integer stream
// with any compiler. Floating-point draws also go through std::log and std::cos, whose
// last bits can differ between C libraries.
//
// A Random is not thread-safe. Derive one per thread or per work item with Fork().
#pragma once

#include <array>
#include <cstdint>

namespace ailab::synth {

// Mixes `value` with `salt` into a well-spread 64-bit hash (SplitMix64 finaliser).
uint64_t MixBits(uint64_t value, uint64_t salt);

class Random {
 public:
  explicit Random(uint64_t seed);

  // Returns the next 64 uniformly distributed bits.
  uint64_t NextBits();

  // Returns a uniform draw from [0, 1).
  double Uniform();

  // Returns a uniform draw from [low, high).
  double Uniform(double low, double high);

  // Returns a uniform integer from [low, high], both ends included.
  int UniformInt(int low, int high);

  // Returns a standard normal draw (mean 0, standard deviation 1).
  double Normal();

  // Returns true with probability `probability`.
  bool Bernoulli(double probability);

  // Returns an independent generator for sub-stream `stream`, derived from this one's
  // current state without advancing it.
  Random Fork(uint64_t stream) const;

 private:
  std::array<uint64_t, 4> state_;
  bool has_spare_normal_ = false;
  double spare_normal_ = 0.0;
};

}  // namespace ailab::synth
