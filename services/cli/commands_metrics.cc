// `ailab metrics classification|detection|segmentation`: metrics computed offline
// from files, for pipelines. No service is called. Each command prints one JSON object
// (undefined figures as null); the formats are described in ailab/metrics/report.h.
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "ailab/metrics/report.h"
#include "ailab/status/status.h"
#include "cli.h"

namespace ailab::cli {
namespace {

// Reads the file named by option --`key`.
absl::StatusOr<std::string> ReadOptionFile(const Args& args, absl::string_view key) {
  AILAB_ASSIGN_OR_RETURN(std::string path, args.Require(key));
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return NotFound("FILE_NOT_FOUND",
                    absl::StrCat("cannot read \"", path, "\"; check the path of --", key),
                    {{std::string(key), path}});
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

absl::Status ClassificationMetrics(const Args& args) {
  AILAB_ASSIGN_OR_RETURN(std::string text, ReadOptionFile(args, "input"));
  const std::string path = args.Get("input");
  absl::StatusOr<metrics::ClassificationTable> table = metrics::ParseClassificationCsv(text);
  if (!table.ok()) return Annotate(table.status(), path);
  metrics::ReportOptions options;
  AILAB_ASSIGN_OR_RETURN(options.threshold, args.GetDouble("threshold", 0.5));
  options.positive = args.Get("positive");
  AILAB_ASSIGN_OR_RETURN(int64_t replicates, args.GetInt("replicates", 1000));
  if (replicates < 0 || replicates > 1000000) {
    const std::string value = absl::StrCat(replicates);
    return InvalidArgument("INVALID_OPTION", "replicates",
                           absl::StrCat("--replicates ", replicates,
                                        " is outside 0..1000000; 0 leaves out the intervals"),
                           {{"value", value}});
  }
  options.replicates = static_cast<int>(replicates);
  AILAB_ASSIGN_OR_RETURN(options.confidence, args.GetDouble("confidence", 0.95));
  AILAB_ASSIGN_OR_RETURN(int64_t seed, args.GetInt("seed", 1));
  options.seed = static_cast<uint64_t>(seed);
  AILAB_ASSIGN_OR_RETURN(std::string json, metrics::ClassificationReportJson(*table, options));
  std::printf("%s", json.c_str());
  return absl::OkStatus();
}

absl::Status DetectionMetrics(const Args& args) {
  AILAB_ASSIGN_OR_RETURN(std::string truth, ReadOptionFile(args, "truth"));
  AILAB_ASSIGN_OR_RETURN(std::string predicted, ReadOptionFile(args, "predicted"));
  AILAB_ASSIGN_OR_RETURN(std::vector<metrics::ImageBoxes> images,
                         metrics::ParseDetectionCsv(truth, predicted, args.Get("truth"),
                                                    args.Get("predicted")));
  AILAB_ASSIGN_OR_RETURN(std::string json, metrics::DetectionReportJson(images));
  std::printf("%s", json.c_str());
  return absl::OkStatus();
}

// Parses --spacing "X[,Y[,Z]]" (mm) into the volume of one voxel, their product.
absl::StatusOr<double> VoxelVolume(const Args& args) {
  if (!args.Has("spacing")) return 1.0;
  const std::string text = args.Get("spacing");
  double volume = 1;
  std::vector<std::string> parts = absl::StrSplit(text, ',');
  for (const std::string& part : parts) {
    double spacing = 0;
    if (parts.size() > 3 || !absl::SimpleAtod(part, &spacing) || !(spacing > 0)) {
      return InvalidArgument("INVALID_OPTION", "spacing",
                             absl::StrCat("--spacing \"", text,
                                          "\" must be one to three positive numbers in mm, "
                                          "such as 0.7,0.7"),
                             {{"value", text}});
    }
    volume *= spacing;
  }
  return volume;
}

absl::Status SegmentationMetrics(const Args& args) {
  AILAB_ASSIGN_OR_RETURN(std::string truth, args.Require("truth"));
  AILAB_ASSIGN_OR_RETURN(std::string predicted, args.Require("predicted"));
  AILAB_ASSIGN_OR_RETURN(double voxel_volume, VoxelVolume(args));
  AILAB_ASSIGN_OR_RETURN(std::vector<metrics::MaskPair> pairs,
                         metrics::ReadMaskFolders(truth, predicted));
  AILAB_ASSIGN_OR_RETURN(std::string json, metrics::SegmentationReportJson(pairs, voxel_volume));
  std::printf("%s", json.c_str());
  return absl::OkStatus();
}

}  // namespace

AILAB_CLI_COMMAND({"metrics", "classification",
                   "Compute classification metrics from a CSV of labels and probabilities",
                   "--input FILE.csv [--threshold P] [--positive CLASS] [--replicates N] "
                   "[--confidence C] [--seed N]  (CSV header: id,truth,<class>,<class>,...; "
                   "with two classes a row is positive when its probability is at or above "
                   "P, default 0.5; --replicates sets the bootstrap resamples of the "
                   "intervals, default 1000, 0 for none; the AUC bootstrap costs about N times the "
                   "row count in random draws; prints JSON, undefined values as null)",
                   &ClassificationMetrics});
AILAB_CLI_COMMAND({"metrics", "detection",
                   "Compute detection metrics (mAP, COCO-style AP, mean IoU) from box CSVs",
                   "--truth FILE.csv --predicted FILE.csv  (CSV header: image,x,y,width,height; "
                   "predictions add score; boxes in pixels from the top-left corner)",
                   &DetectionMetrics});
AILAB_CLI_COMMAND({"metrics", "segmentation",
                   "Compute Dice, IoU, volumes and Bland-Altman agreement of PNG masks",
                   "--truth DIR --predicted DIR [--spacing X[,Y[,Z]]]  (masks paired by file "
                   "name, non-zero pixels are foreground; --spacing in mm scales the volumes, "
                   "default 1 so that volumes count pixels)",
                   &SegmentationMetrics});

}  // namespace ailab::cli
