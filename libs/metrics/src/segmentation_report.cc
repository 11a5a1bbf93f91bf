#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ailab/imaging/png.h"
#include "ailab/metrics/report.h"
#include "ailab/status/status.h"
#include "src/text_format.h"

namespace ailab::metrics {
namespace {

namespace fs = std::filesystem;
using internal::JsonNumber;
using internal::JsonQuoted;

// Sorted names of the .png files directly in `dir`.
absl::StatusOr<std::vector<std::string>> PngNames(const std::string& dir,
                                                  absl::string_view option) {
  std::error_code error;
  if (!fs::is_directory(dir, error)) {
    return NotFound("FOLDER_NOT_FOUND",
                    absl::StrCat("\"", dir, "\" is not a folder; check the path of --", option),
                    {{"folder", dir}});
  }
  std::vector<std::string> names;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, error)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && absl::EndsWithIgnoreCase(name, ".png")) names.push_back(name);
  }
  if (error) {
    return NotFound("FOLDER_NOT_FOUND",
                    absl::StrCat("cannot list \"", dir, "\": ", error.message()),
                    {{"folder", dir}});
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Reads one PNG mask; non-zero pixels are foreground.
absl::StatusOr<imaging::GrayImage> ReadMask(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return NotFound("FILE_NOT_FOUND", absl::StrCat("cannot read \"", path, "\""),
                    {{"file", path}});
  }
  std::stringstream bytes;
  bytes << in.rdbuf();
  return imaging::DecodePng(bytes.str(), path);
}

std::vector<uint8_t> Foreground(const imaging::GrayImage& image) {
  std::vector<uint8_t> mask(image.pixels.size());
  for (size_t i = 0; i < mask.size(); ++i) mask[i] = image.pixels[i] != 0 ? 1 : 0;
  return mask;
}

}  // namespace

absl::StatusOr<std::vector<MaskPair>> ReadMaskFolders(const std::string& truth_dir,
                                                      const std::string& predicted_dir) {
  AILAB_ASSIGN_OR_RETURN(std::vector<std::string> truth_names, PngNames(truth_dir, "truth"));
  AILAB_ASSIGN_OR_RETURN(std::vector<std::string> predicted_names,
                         PngNames(predicted_dir, "predicted"));
  if (truth_names.empty()) {
    return InvalidArgument("NO_MASKS", "truth",
                           absl::StrCat("\"", truth_dir, "\" has no .png mask"),
                           {{"folder", truth_dir}});
  }
  const std::set<std::string> truth_set(truth_names.begin(), truth_names.end());
  for (const std::string& name : predicted_names) {
    if (truth_set.count(name) == 0) {
      return InvalidArgument("UNMATCHED_MASK", "predicted",
                             absl::StrCat("predicted mask \"", name, "\" has no truth mask in \"",
                                          truth_dir, "\"; masks are paired by file name"),
                             {{"file", name}});
    }
  }
  std::vector<MaskPair> pairs;
  for (const std::string& name : truth_names) {
    const std::string truth_path = (fs::path(truth_dir) / name).string();
    const std::string predicted_path = (fs::path(predicted_dir) / name).string();
    if (!fs::exists(predicted_path)) {
      return NotFound("FILE_NOT_FOUND",
                      absl::StrCat("predicted mask \"", predicted_path,
                                   "\" is missing; every truth mask needs a prediction of the "
                                   "same file name"),
                      {{"file", predicted_path}});
    }
    AILAB_ASSIGN_OR_RETURN(imaging::GrayImage truth, ReadMask(truth_path));
    AILAB_ASSIGN_OR_RETURN(imaging::GrayImage predicted, ReadMask(predicted_path));
    if (truth.width != predicted.width || truth.height != predicted.height) {
      return InvalidArgument(
          "SIZE_MISMATCH", "predicted",
          absl::StrCat("mask \"", name, "\" is ", truth.width, "x", truth.height,
                       " in the truth folder but ", predicted.width, "x", predicted.height,
                       " in the predicted folder; masks must have the same size"),
          {{"file", name}});
    }
    pairs.push_back(MaskPair{name, Foreground(truth), Foreground(predicted)});
  }
  return pairs;
}

absl::StatusOr<std::string> SegmentationReportJson(const std::vector<MaskPair>& pairs,
                                                   double voxel_volume) {
  AILAB_ASSIGN_OR_RETURN(SegmentationMetrics metrics, EvaluateSegmentations(pairs, voxel_volume));
  std::vector<std::string> images;
  std::vector<std::string> volumes;
  for (size_t i = 0; i < pairs.size(); ++i) {
    const std::string name = JsonQuoted(pairs[i].image);
    images.push_back(absl::StrCat(
        "{\"image\": ", name, ", \"dice\": ", JsonNumber(metrics.images[i].dice),
        ", \"iou\": ", JsonNumber(metrics.images[i].iou),
        ", \"truth_volume\": ", JsonNumber(metrics.truth_volumes[i]),
        ", \"predicted_volume\": ", JsonNumber(metrics.predicted_volumes[i]), "}"));
    volumes.push_back(absl::StrCat("{\"image\": ", name,
                                   ", \"truth\": ", JsonNumber(metrics.truth_volumes[i]),
                                   ", \"predicted\": ", JsonNumber(metrics.predicted_volumes[i]),
                                   "}"));
  }
  const BlandAltman& agreement = metrics.volume_agreement;
  std::string json = "{\n";
  absl::StrAppend(&json, "  \"images\": [", absl::StrJoin(images, ", "), "],\n");
  absl::StrAppend(&json, "  \"mean_dice\": ", JsonNumber(metrics.mean_dice), ",\n");
  absl::StrAppend(&json, "  \"mean_iou\": ", JsonNumber(metrics.mean_iou), ",\n");
  absl::StrAppend(&json, "  \"voxel_volume\": ", JsonNumber(voxel_volume), ",\n");
  absl::StrAppend(&json, "  \"volumes\": [", absl::StrJoin(volumes, ", "), "],\n");
  absl::StrAppend(&json, "  \"bland_altman\": {\"bias\": ", JsonNumber(agreement.bias),
                  ", \"sd\": ", JsonNumber(agreement.sd), ", \"lower\": ",
                  JsonNumber(agreement.lower), ", \"upper\": ", JsonNumber(agreement.upper),
                  "}\n");
  json += "}\n";
  return json;
}

}  // namespace ailab::metrics
