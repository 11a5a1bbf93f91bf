// `ailab synth generate`: writes a dataset of synthetic DICOM mammograms with known
// density categories, the same as the ailab-synth command (see ailab/synth/dataset.h).
//
// NOTE: the command is compiled only when the client links ailab::synth, which needs
// libs/dicom and libs/imaging; without them `ailab help` does not list it.
#if __has_include("ailab/synth/dataset.h")

#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "ailab/status/status.h"
#include "ailab/synth/dataset.h"
#include "cli.h"

namespace ailab::cli {
namespace {

absl::StatusOr<int> IntOption(const Args& args, absl::string_view key, int fallback) {
  AILAB_ASSIGN_OR_RETURN(int64_t value, args.GetInt(key, fallback));
  if (value < INT32_MIN || value > INT32_MAX) {
    return InvalidArgument("SYNTH_INVALID_OPTION", key,
                           absl::StrCat("--", key, " = ", value, " is out of range"),
                           {{"option", key}});
  }
  return static_cast<int>(value);
}

absl::Status GenerateSynthetic(const Args& args) {
  synth::DatasetOptions options;
  AILAB_ASSIGN_OR_RETURN(options.output_dir, args.Require("out"));
  AILAB_ASSIGN_OR_RETURN(options.count, IntOption(args, "count", options.count));
  AILAB_ASSIGN_OR_RETURN(options.patients, IntOption(args, "patients", options.patients));
  AILAB_ASSIGN_OR_RETURN(options.images_per_study,
                         IntOption(args, "images_per_study", options.images_per_study));
  AILAB_ASSIGN_OR_RETURN(
      options.contact_sheet_per_category,
      IntOption(args, "contact_sheet_per_category", options.contact_sheet_per_category));
  AILAB_ASSIGN_OR_RETURN(options.threads, IntOption(args, "threads", options.threads));
  AILAB_ASSIGN_OR_RETURN(options.monochrome1_fraction,
                         args.GetDouble("monochrome1_fraction", options.monochrome1_fraction));
  AILAB_ASSIGN_OR_RETURN(options.variability, args.GetDouble("variability", options.variability));
  const std::string seed = args.Get("seed", "1");
  if (!absl::SimpleAtoi(seed, &options.seed)) {
    return InvalidArgument(
        "SYNTH_INVALID_OPTION", "seed",
        absl::StrCat("--seed = \"", seed, "\" is invalid; use a whole number from 0 to 2^64 - 1"),
        {{"option", "seed"}});
  }
  options.first_study_date = args.Get("first_study_date", options.first_study_date);
  options.overwrite = args.Has("overwrite") && args.Get("overwrite") != "false";
  AILAB_RETURN_IF_ERROR(
      synth::ParseImageSize(args.Get("size", "512x416"), options.rows, options.columns));
  AILAB_ASSIGN_OR_RETURN(options.category_weights, synth::ParseCategoryWeights(args.Get(
                                                       "category_weights", "0.1,0.4,0.4,0.1")));

  AILAB_ASSIGN_OR_RETURN(synth::DatasetSummary summary, synth::GenerateDataset(options));
  std::printf("%s\n", synth::SummaryJson(summary).c_str());
  return absl::OkStatus();
}

AILAB_CLI_COMMAND({"synth", "generate",
                   "Write synthetic DICOM mammograms with known breast density and truth.csv",
                   "--out=DIR [--count=100] [--seed=1] [--patients=0 (one per three studies)] "
                   "[--size=ROWSxCOLUMNS (512x416)] [--monochrome1_fraction=0.2] "
                   "[--category_weights=A,B,C,D (0.1,0.4,0.4,0.1)] [--variability=1 (0 to 1)] "
                   "[--images_per_study=4] "
                   "[--first_study_date=YYYYMMDD] [--contact_sheet_per_category=4] "
                   "[--threads=1] [--overwrite]",
                   &GenerateSynthetic});

}  // namespace
}  // namespace ailab::cli

#endif  // __has_include("ailab/synth/dataset.h")
