#include <cmath>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "ailab/metrics/report.h"
#include "ailab/status/status.h"
#include "src/text_format.h"

namespace ailab::metrics {
namespace {

using internal::CsvError;
using internal::JsonNumber;
using internal::JsonQuoted;

// Collects images in order of first appearance across both files.
class ImageIndex {
 public:
  ImageBoxes& Get(const std::string& name) {
    auto [it, inserted] = index_.try_emplace(name, images_.size());
    if (inserted) images_.push_back(ImageBoxes{name, {}, {}});
    return images_[it->second];
  }
  std::vector<ImageBoxes> Take() { return std::move(images_); }

 private:
  std::map<std::string, size_t> index_;
  std::vector<ImageBoxes> images_;
};

// Parses one detection CSV into `index`, as truth boxes or, with `predicted`, as
// predicted boxes with a score.
absl::Status ParseBoxes(absl::string_view text, absl::string_view source, bool predicted,
                        ImageIndex& index) {
  std::vector<std::string> required = {"image", "x", "y", "width", "height"};
  if (predicted) required.push_back("score");
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
  std::vector<size_t> column_of(required.size());
  size_t header_line = 0;
  size_t columns = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    absl::string_view line = absl::StripSuffix(lines[i], "\r");
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    const std::vector<std::string> fields = internal::SplitCsvLine(line);
    const size_t line_number = i + 1;
    if (header_line == 0) {
      header_line = line_number;
      columns = fields.size();
      for (size_t r = 0; r < required.size(); ++r) {
        auto it = std::find(fields.begin(), fields.end(), required[r]);
        if (it == fields.end()) {
          return CsvError(source, line_number, required[r],
                          absl::StrCat("the header has no column \"", required[r],
                                       "\"; it needs ", absl::StrJoin(required, ",")));
        }
        column_of[r] = static_cast<size_t>(it - fields.begin());
      }
      continue;
    }
    if (fields.size() != columns) {
      return CsvError(source, line_number, "",
                      absl::StrCat("the row has ", fields.size(), " fields but the header has ",
                                   columns));
    }
    const std::string& image = fields[column_of[0]];
    if (image.empty()) return CsvError(source, line_number, "image", "the image name is empty");
    ImageBoxes& boxes = index.Get(image);

    bool all_empty = true;
    for (size_t r = 1; r < required.size(); ++r) all_empty = all_empty && fields[column_of[r]].empty();
    if (all_empty) continue;  // an image without boxes

    double values[6] = {0, 0, 0, 0, 0, 1};
    for (size_t r = 1; r < required.size(); ++r) {
      const std::string& field = fields[column_of[r]];
      if (!absl::SimpleAtod(field, &values[r]) || !std::isfinite(values[r])) {
        return CsvError(source, line_number, required[r],
                        absl::StrCat("\"", field, "\" is not a number"));
      }
    }
    if (values[3] < 0 || values[4] < 0) {
      return CsvError(source, line_number, values[3] < 0 ? "width" : "height",
                      "box sizes must be at least 0");
    }
    const Box box{values[1], values[2], values[3], values[4], values[5]};
    (predicted ? boxes.predicted : boxes.truth).push_back(box);
  }
  if (header_line == 0) {
    return InvalidArgument("EMPTY_CSV", "input",
                           absl::StrCat(source, ": the CSV is empty; it needs a header ",
                                        absl::StrJoin(required, ","), " and rows"),
                           {{"file", std::string(source)}});
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<ImageBoxes>> ParseDetectionCsv(absl::string_view truth_csv,
                                                          absl::string_view predicted_csv,
                                                          absl::string_view truth_source,
                                                          absl::string_view predicted_source) {
  ImageIndex index;
  AILAB_RETURN_IF_ERROR(ParseBoxes(truth_csv, truth_source, /*predicted=*/false, index));
  AILAB_RETURN_IF_ERROR(ParseBoxes(predicted_csv, predicted_source, /*predicted=*/true, index));
  return index.Take();
}

absl::StatusOr<std::string> DetectionReportJson(const std::vector<ImageBoxes>& images) {
  AILAB_ASSIGN_OR_RETURN(DetectionMetrics metrics, EvaluateDetections(images));
  std::vector<std::string> per_image;
  for (size_t i = 0; i < images.size(); ++i) {
    per_image.push_back(absl::StrCat("{\"image\": ", JsonQuoted(images[i].image),
                                     ", \"map\": ", JsonNumber(metrics.image_map[i]), "}"));
  }
  std::string json = "{\n";
  absl::StrAppend(&json, "  \"images\": ", images.size(), ",\n");
  absl::StrAppend(&json, "  \"truth_boxes\": ", metrics.truth_boxes, ",\n");
  absl::StrAppend(&json, "  \"predicted_boxes\": ", metrics.predicted_boxes, ",\n");
  absl::StrAppend(&json, "  \"map\": ", JsonNumber(metrics.map), ",\n");
  absl::StrAppend(&json, "  \"coco_ap\": ", JsonNumber(metrics.coco_ap), ",\n");
  absl::StrAppend(&json, "  \"coco_ap50\": ", JsonNumber(metrics.coco_ap50), ",\n");
  absl::StrAppend(&json, "  \"mean_iou\": ", JsonNumber(metrics.mean_iou), ",\n");
  absl::StrAppend(&json, "  \"image_map\": [", absl::StrJoin(per_image, ", "), "]\n");
  json += "}\n";
  return json;
}

}  // namespace ailab::metrics
