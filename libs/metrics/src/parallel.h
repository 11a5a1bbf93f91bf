// Internal helpers of libs/metrics: large-buffer allocation, a radix sort for scores and
// a small parallel loop.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <new>
#include <thread>
#include <vector>

namespace ailab::metrics::internal {

// Allocates `bytes` for a large buffer: from 4 MiB up, 2 MiB-aligned memory that the
// kernel is asked to back with transparent huge pages (madvise MADV_HUGEPAGE, Linux),
// because first-touch page faults otherwise dominate one pass over 10^7 rows. Smaller
// buffers come from malloc. Throws std::bad_alloc when out of memory.
void* AllocateLarge(size_t bytes);
void FreeLarge(void* pointer);

// A std::allocator replacement that uses AllocateLarge, for the per-call buffers of
// sorting and counting.
template <typename T>
struct LargeAllocator {
  using value_type = T;
  LargeAllocator() = default;
  template <typename U>
  LargeAllocator(const LargeAllocator<U>&) {}
  T* allocate(size_t n) { return static_cast<T*>(AllocateLarge(n * sizeof(T))); }
  void deallocate(T* pointer, size_t) { FreeLarge(pointer); }
  template <typename U>
  bool operator==(const LargeAllocator<U>&) const {
    return true;
  }
};

template <typename T>
using LargeVector = std::vector<T, LargeAllocator<T>>;

// Sorts `values` ascending (no NaN allowed) with an LSD radix sort on the IEEE-754 bit
// patterns, 11 bits per pass, skipping passes in which every value has the same digit.
// It runs in O(n), and measured 3 to 6 times faster than std::sort on 5 * 10^5 and
// 5 * 10^6 random doubles (GCC 12, -O2). -0.0 comes out as +0.0, which compares equal
// to it. `scratch` is reused between calls to avoid reallocating.
void RadixSort(std::vector<double>& values, LargeVector<uint64_t>& scratch);

// Maps a double (not NaN) to an unsigned key of the same order: a < b exactly when
// SortKey(a) < SortKey(b), and equal doubles get equal keys (-0.0 and +0.0 included).
inline uint64_t SortKey(double value) {
  const uint64_t bits = std::bit_cast<uint64_t>(value + 0.0);  // -0.0 + 0.0 is +0.0
  return (bits >> 63) != 0 ? ~bits : bits | (uint64_t{1} << 63);
}

// Inverts SortKey.
inline double FromSortKey(uint64_t key) {
  const uint64_t bits = (key >> 63) != 0 ? key & ~(uint64_t{1} << 63) : ~key;
  return std::bit_cast<double>(bits);
}

// Sorts keys ascending with the radix sort of RadixSort. `scratch` ends up holding
// unspecified values.
void RadixSortKeys(LargeVector<uint64_t>& keys, LargeVector<uint64_t>& scratch);

// Number of worker threads for `tasks` independent tasks: at most the hardware
// concurrency, at least 1.
int WorkerCount(int64_t tasks);

// Runs body(task) for task in [0, tasks) on up to WorkerCount(tasks) threads, each
// taking tasks in turn (task t goes to thread t % threads). Results must not depend on
// which thread runs a task.
template <typename Body>
void ParallelFor(int64_t tasks, Body body) {
  const int threads = WorkerCount(tasks);
  if (threads <= 1) {
    for (int64_t task = 0; task < tasks; ++task) body(task);
    return;
  }
  std::vector<std::thread> workers;
  workers.reserve(threads - 1);
  for (int t = 1; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int64_t task = t; task < tasks; task += threads) body(task);
    });
  }
  for (int64_t task = 0; task < tasks; task += threads) body(task);
  for (std::thread& worker : workers) worker.join();
}

// splitmix64 step: a well-mixed 64-bit value from `state`, used to derive independent
// seeds per bootstrap replicate.
inline uint64_t SplitMix64(uint64_t state) {
  uint64_t z = state + 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace ailab::metrics::internal
