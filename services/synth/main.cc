// ailab-synth: writes a dataset of synthetic DICOM mammograms with known BI-RADS
// density categories, their truth.csv and a contact sheet (see ailab/synth/dataset.h).
//
//   ailab-synth --out DIR [--count 100] [--seed 1] [--patients 0] [--size 512x416]
//               [--monochrome1_fraction 0.2] [--category_weights 0.1,0.4,0.4,0.1]
//
// Prints a JSON summary on standard output; exits 2 for a bad option, 1 for any other
// failure.
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "ailab/config/flags.h"
#include "ailab/log/log.h"
#include "ailab/synth/dataset.h"

ABSL_FLAG(std::string, out, "", "output folder for the DICOM files, truth.csv and contact sheet");
ABSL_FLAG(int, count, 100, "number of images");
ABSL_FLAG(uint64_t, seed, 1, "seed; the same seed and options give the same files");
ABSL_FLAG(int, patients, 0, "number of synthetic patients; 0: one per three studies");
ABSL_FLAG(std::string, size, "512x416", "image size in pixels, ROWSxCOLUMNS");
ABSL_FLAG(double, monochrome1_fraction, 0.2, "share of studies stored as MONOCHROME1, 0 to 1");
ABSL_FLAG(std::string, category_weights, "0.1,0.4,0.4,0.1",
          "relative frequency of density categories A,B,C,D among patients");
ABSL_FLAG(double, variability, 1.0,
          "processing variation that hides density from brightness statistics, 0 to 1; "
          "lower is easier to learn");
ABSL_FLAG(int, images_per_study, 4, "views per study, 1 to 4 (RCC, LCC, RMLO, LMLO)");
ABSL_FLAG(std::string, first_study_date, "20220103", "earliest first Study Date, YYYYMMDD");
ABSL_FLAG(int, contact_sheet_per_category, 4,
          "thumbnails per category in contact_sheet.png; 0: no sheet");
ABSL_FLAG(int, threads, 1, "worker threads; the output does not depend on it");
ABSL_FLAG(bool, overwrite, false, "replace the files of an earlier run in --out");

namespace {

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "error: %s\n", std::string(status.message()).c_str());
  return status.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  ailab::config::ParseFlags(
      "synth", argc, argv,
      "Writes synthetic DICOM mammograms with known breast density.\n"
      "usage: ailab-synth --out DIR [--count N] [--seed S] [--patients P] [--size 512x416]\n"
      "       [--monochrome1_fraction 0.2] [--category_weights 0.1,0.4,0.4,0.1]\n"
      "--helpfull lists every option.");
  ailab::log::SetLevel(absl::GetFlag(FLAGS_log_level));

  ailab::synth::DatasetOptions options;
  options.output_dir = absl::GetFlag(FLAGS_out);
  options.count = absl::GetFlag(FLAGS_count);
  options.seed = absl::GetFlag(FLAGS_seed);
  options.patients = absl::GetFlag(FLAGS_patients);
  options.monochrome1_fraction = absl::GetFlag(FLAGS_monochrome1_fraction);
  options.variability = absl::GetFlag(FLAGS_variability);
  options.images_per_study = absl::GetFlag(FLAGS_images_per_study);
  options.first_study_date = absl::GetFlag(FLAGS_first_study_date);
  options.contact_sheet_per_category = absl::GetFlag(FLAGS_contact_sheet_per_category);
  options.threads = absl::GetFlag(FLAGS_threads);
  options.overwrite = absl::GetFlag(FLAGS_overwrite);
  if (absl::Status status =
          ailab::synth::ParseImageSize(absl::GetFlag(FLAGS_size), options.rows, options.columns);
      !status.ok()) {
    return Fail(status);
  }
  auto weights = ailab::synth::ParseCategoryWeights(absl::GetFlag(FLAGS_category_weights));
  if (!weights.ok()) return Fail(weights.status());
  options.category_weights = *weights;

  auto summary = ailab::synth::GenerateDataset(options);
  if (!summary.ok()) return Fail(summary.status());
  std::printf("%s\n", ailab::synth::SummaryJson(*summary).c_str());
  return 0;
}
