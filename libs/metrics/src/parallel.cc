#include "src/parallel.h"

#include <sys/mman.h>

#include <array>
#include <cstdlib>

namespace ailab::metrics::internal {
namespace {

constexpr int kDigitBits = 11;
constexpr int kBuckets = 1 << kDigitBits;
constexpr int kPasses = (64 + kDigitBits - 1) / kDigitBits;
// Below this size std::sort is used. NOTE: an estimate of where six counting passes
// stop paying off; it was not measured.
constexpr size_t kRadixMinSize = 4096;

constexpr size_t kHugePage = size_t{2} << 20;
constexpr size_t kLargeBufferBytes = size_t{4} << 20;

}  // namespace

void* AllocateLarge(size_t bytes) {
  void* pointer = nullptr;
  if (bytes >= kLargeBufferBytes) {
    const size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
    pointer = std::aligned_alloc(kHugePage, rounded);
#ifdef MADV_HUGEPAGE
    // Only advice: without transparent huge pages the buffer still works.
    if (pointer != nullptr) madvise(pointer, rounded, MADV_HUGEPAGE);
#endif
  } else {
    pointer = std::malloc(bytes == 0 ? 1 : bytes);
  }
  if (pointer == nullptr) throw std::bad_alloc();
  return pointer;
}

void FreeLarge(void* pointer) { std::free(pointer); }

void RadixSortKeys(LargeVector<uint64_t>& keys, LargeVector<uint64_t>& scratch) {
  const size_t n = keys.size();
  if (n < kRadixMinSize) {
    std::sort(keys.begin(), keys.end());
    return;
  }
  std::vector<std::array<size_t, kBuckets>> histograms(kPasses);
  for (auto& histogram : histograms) histogram.fill(0);
  for (const uint64_t key : keys) {
    for (int pass = 0; pass < kPasses; ++pass) {
      ++histograms[pass][(key >> (pass * kDigitBits)) & (kBuckets - 1)];
    }
  }

  // Each pass scatters from `keys` into `scratch` by one digit, then the two swap.
  scratch.resize(n);
  for (int pass = 0; pass < kPasses; ++pass) {
    auto& histogram = histograms[pass];
    const int shift = pass * kDigitBits;
    // A pass in which every key has the same digit would only copy.
    if (histogram[(keys[0] >> shift) & (kBuckets - 1)] == n) continue;
    size_t offset = 0;
    for (size_t& count : histogram) {
      const size_t bucket_size = count;
      count = offset;
      offset += bucket_size;
    }
    for (const uint64_t key : keys) scratch[histogram[(key >> shift) & (kBuckets - 1)]++] = key;
    keys.swap(scratch);
  }
}

void RadixSort(std::vector<double>& values, LargeVector<uint64_t>& scratch) {
  LargeVector<uint64_t> keys(values.size());
  for (size_t i = 0; i < values.size(); ++i) keys[i] = SortKey(values[i]);
  RadixSortKeys(keys, scratch);
  for (size_t i = 0; i < values.size(); ++i) values[i] = FromSortKey(keys[i]);
}

int WorkerCount(int64_t tasks) {
  const int64_t hardware = std::max(1u, std::thread::hardware_concurrency());
  return static_cast<int>(std::max<int64_t>(1, std::min(tasks, hardware)));
}

}  // namespace ailab::metrics::internal
