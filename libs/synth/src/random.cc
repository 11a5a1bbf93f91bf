#include "ailab/synth/random.h"

#include <cmath>
#include <numbers>

namespace ailab::synth {
namespace {

uint64_t SplitMix64(uint64_t& state) {
  state += 0x9E3779B97F4A7C15ULL;
  uint64_t z = state;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

uint64_t RotateLeft(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

uint64_t MixBits(uint64_t value, uint64_t salt) {
  uint64_t state = value ^ RotateLeft(salt * 0xD1B54A32D192ED03ULL, 17);
  SplitMix64(state);
  return SplitMix64(state);
}

Random::Random(uint64_t seed) {
  uint64_t state = seed;
  for (uint64_t& word : state_) word = SplitMix64(state);
}

uint64_t Random::NextBits() {
  const uint64_t result = RotateLeft(state_[1] * 5, 7) * 9;
  const uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = RotateLeft(state_[3], 45);
  return result;
}

double Random::Uniform() {
  // The top 53 bits fill a double's mantissa exactly.
  return static_cast<double>(NextBits() >> 11) * 0x1.0p-53;
}

double Random::Uniform(double low, double high) { return low + (high - low) * Uniform(); }

int Random::UniformInt(int low, int high) {
  const uint64_t span = static_cast<uint64_t>(static_cast<int64_t>(high) - low) + 1;
  // Multiply-shift maps 64 random bits onto [0, span); the bias is below 2^-32 for the
  // small spans used here.
  const uint64_t offset =
      static_cast<uint64_t>((static_cast<unsigned __int128>(NextBits()) * span) >> 64);
  return static_cast<int>(low + static_cast<int64_t>(offset));
}

double Random::Normal() {
  if (has_spare_normal_) {
    has_spare_normal_ = false;
    return spare_normal_;
  }
  // Box-Muller transform; 1 - Uniform() lies in (0, 1], so the logarithm is finite.
  const double radius = std::sqrt(-2.0 * std::log(1.0 - Uniform()));
  const double angle = 2.0 * std::numbers::pi * Uniform();
  spare_normal_ = radius * std::sin(angle);
  has_spare_normal_ = true;
  return radius * std::cos(angle);
}

bool Random::Bernoulli(double probability) { return Uniform() < probability; }

Random Random::Fork(uint64_t stream) const {
  uint64_t seed = MixBits(state_[0] ^ RotateLeft(state_[2], 29), stream);
  return Random(MixBits(seed, state_[1] ^ state_[3]));
}

}  // namespace ailab::synth
