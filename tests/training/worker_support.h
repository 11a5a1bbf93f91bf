// Helpers of the tests that run ailab-worker processes against a TrainingHarness: a
// tiny synthetic binary dataset, job creation, worker start and polling of a job.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "harness.h"

namespace ailab::training::testing {

// Use case and dataset of the synthetic data, and the side of its arrays in pixels.
inline constexpr char kSyntheticUseCase[] = "useCases/binary";
inline constexpr char kSyntheticDataset[] = "datasets/synthetic";
inline constexpr int kSyntheticImageSize = 32;
// Instances per class: class 0 dark, class 1 bright.
inline constexpr int kSyntheticPerClass = 60;

// Stores the synthetic arrays in the harness's blob store and puts the dataset, labelled
// by "ann1", on the fakes.
void AddSyntheticDataset(TrainingHarness& harness);

// Creates a resnet18 job on the synthetic dataset that trains for `max_epochs` without
// early stopping and needs `gpu_count` GPUs and `memory_mb` MiB; REQUIREs success.
v1::TrainingJob CreateSyntheticJob(TrainingHarness& harness, int max_epochs,
                                   const std::string& owner = "user-1", int gpu_count = 0,
                                   int64_t memory_mb = 0);

// Starts ailab-worker `worker_id` on the harness's queue with a 500 ms heartbeat and
// a 5 s lease; `extra_args` are appended (later flags win). FAILs when it does not start.
std::unique_ptr<ailab::testing::ServiceProcess> StartWorker(
    TrainingHarness& harness, const std::string& work_dir, const std::string& worker_id,
    const std::vector<std::string>& extra_args = {});

// Returns the job; REQUIREs success.
v1::TrainingJob GetJob(TrainingHarness& harness, const std::string& name);

// Polls the job every 100 ms until `done` returns true, for at most about ten minutes
// (for slow machines), and returns the last state read.
v1::TrainingJob WaitFor(TrainingHarness& harness, const std::string& name,
                        const std::function<bool(const v1::TrainingJob&)>& done);

bool IsTerminal(const v1::TrainingJob& job);

// Returns every model in the harness's database.
std::vector<v1::Model> ListAllModels(TrainingHarness& harness);

}  // namespace ailab::training::testing
