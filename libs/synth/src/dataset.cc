#include "ailab/synth/dataset.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <numeric>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "ailab/dicom/writer.h"
#include "ailab/log/log.h"
#include "ailab/status/status.h"
#include "src/contact_sheet.h"

namespace ailab::synth {
namespace {

namespace fs = std::filesystem;

constexpr absl::string_view kTruthFile = "truth.csv";
constexpr absl::string_view kContactSheetFile = "contact_sheet.png";
constexpr absl::string_view kTruthHeader =
    "file,sop_instance_uid,patient_id,study_date,laterality,view,category,dense_fraction";

// Salts that keep the seed's uses apart.
constexpr uint64_t kPlanSalt = 0x504c414e;   // "PLAN"
constexpr uint64_t kImageSalt = 0x494d4147;  // "IMAG"
constexpr uint64_t kStudyUidKind = 1;
constexpr uint64_t kSeriesUidKind = 2;
constexpr uint64_t kInstanceUidKind = 3;

// Screening studies of one patient come about a year apart.
constexpr int kMinStudyIntervalDays = 300;
constexpr int kMaxStudyIntervalDays = 430;

absl::Status OptionError(absl::string_view option, absl::string_view message) {
  return InvalidArgument("SYNTH_INVALID_OPTION", option, absl::StrCat("--", option, " ", message),
                         {{"option", option}});
}

// A UID under the 2.25 root: the decimal form of a 128-bit value laid out as a UUID of
// version 8 (custom), derived from the seed, the kind of UID and an index.
std::string MakeUid(uint64_t seed, uint64_t kind, uint64_t index) {
  const uint64_t high = MixBits(MixBits(seed, 0x55494400 + kind), index);
  const uint64_t low = MixBits(high, ~index);
  unsigned __int128 value = (static_cast<unsigned __int128>(high) << 64) | low;
  // Version nibble 8 in bits 76-79, variant 0b10 in bits 62-63.
  value &= ~(static_cast<unsigned __int128>(0xF) << 76);
  value |= static_cast<unsigned __int128>(0x8) << 76;
  value &= ~(static_cast<unsigned __int128>(0x3) << 62);
  value |= static_cast<unsigned __int128>(0x2) << 62;
  std::string digits;
  do {
    digits.push_back(static_cast<char>('0' + static_cast<int>(value % 10)));
    value /= 10;
  } while (value != 0);
  std::reverse(digits.begin(), digits.end());
  return absl::StrCat("2.25.", digits);
}

bool ParseCompactDate(absl::string_view text, absl::CivilDay& day) {
  int year = 0, month = 0, date = 0;
  if (text.size() != 8 || !absl::SimpleAtoi(text.substr(0, 4), &year) ||
      !absl::SimpleAtoi(text.substr(4, 2), &month) || !absl::SimpleAtoi(text.substr(6, 2), &date)) {
    return false;
  }
  day = absl::CivilDay(year, month, date);
  // CivilDay normalises out-of-range fields (Feb 30 becomes Mar 2); reject those.
  return day.year() == year && day.month() == month && day.day() == date;
}

std::string CompactDate(absl::CivilDay day) {
  return absl::StrFormat("%04d%02d%02d", day.year(), day.month(), day.day());
}

std::string IsoDate(absl::CivilDay day) {
  return absl::StrFormat("%04d-%02d-%02d", day.year(), day.month(), day.day());
}

std::string JsonString(absl::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += absl::StrFormat("\\u%04x", c);
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

// Everything about one image that is decided before any pixel is drawn.
struct PlannedImage {
  std::string file;
  MammogramParams params;
  dicom::MammogramHeader header;
  absl::CivilDay study_date;
  // Cell in its category's row of the contact sheet, or -1.
  int sheet_slot = -1;
};

struct Plan {
  std::vector<PlannedImage> images;
  int studies = 0;
  int patients = 0;
};

// Assigns categories to `patients` patients in proportion to `weights` (largest
// remainders get the leftover patients), in random order.
std::vector<DensityCategory> PatientCategories(
    int patients, const std::array<double, kDensityCategoryCount>& weights, Random& random) {
  const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
  std::array<int, kDensityCategoryCount> counts{};
  std::array<double, kDensityCategoryCount> remainders{};
  int assigned = 0;
  for (int c = 0; c < kDensityCategoryCount; ++c) {
    const double share = weights[c] / total * patients;
    counts[c] = static_cast<int>(std::floor(share));
    remainders[c] = share - counts[c];
    assigned += counts[c];
  }
  while (assigned < patients) {
    const int c = static_cast<int>(std::max_element(remainders.begin(), remainders.end()) -
                                   remainders.begin());
    ++counts[c];
    remainders[c] = -1;
    ++assigned;
  }
  std::vector<DensityCategory> categories;
  for (int c = 0; c < kDensityCategoryCount; ++c) {
    categories.insert(categories.end(), counts[c], static_cast<DensityCategory>(c));
  }
  for (int i = static_cast<int>(categories.size()) - 1; i > 0; --i) {
    std::swap(categories[i], categories[random.UniformInt(0, i)]);
  }
  return categories;
}

Plan MakePlan(const DatasetOptions& options) {
  Plan plan;
  Random random(MixBits(options.seed, kPlanSalt));
  plan.studies = (options.count + options.images_per_study - 1) / options.images_per_study;
  plan.patients = options.patients > 0 ? std::min(options.patients, plan.studies)
                                       : std::max(1, (plan.studies + 2) / 3);
  const int id_width = std::max(4, static_cast<int>(absl::StrCat(plan.patients).size()));
  const int file_width = std::max(5, static_cast<int>(absl::StrCat(options.count - 1).size()));

  // Patients: category, birth date and the date of their next study.
  absl::CivilDay first_day;
  ParseCompactDate(options.first_study_date, first_day);
  const std::vector<DensityCategory> categories =
      PatientCategories(plan.patients, options.category_weights, random);
  struct Patient {
    DensityCategory category;
    absl::CivilDay next_study;
    absl::CivilDay birth;
  };
  std::vector<Patient> patients;
  for (int p = 0; p < plan.patients; ++p) {
    Patient patient;
    patient.category = categories[p];
    patient.next_study = first_day + random.UniformInt(0, 180);
    const int age_days = random.UniformInt(40, 74) * 365 + random.UniformInt(0, 364);
    patient.birth = patient.next_study - age_days;
    patients.push_back(patient);
  }

  const std::array<std::pair<Laterality, View>, 4> standard_views = {{
      {Laterality::kRight, View::kCranioCaudal},
      {Laterality::kLeft, View::kCranioCaudal},
      {Laterality::kRight, View::kMediolateralOblique},
      {Laterality::kLeft, View::kMediolateralOblique},
  }};
  std::array<int, kDensityCategoryCount> on_sheet{};
  for (int study = 0; study < plan.studies; ++study) {
    const int patient_index = study % plan.patients;
    Patient& patient = patients[patient_index];
    const absl::CivilDay study_day = patient.next_study;
    patient.next_study += random.UniformInt(kMinStudyIntervalDays, kMaxStudyIntervalDays);

    // One device per study: photometric, bit depth and pixel spacing are shared.
    const bool monochrome1 = random.Bernoulli(options.monochrome1_fraction);
    const int bits_stored = random.UniformInt(12, 16);
    const double spacing = std::round(random.Uniform(0.10, 0.20) * 1000) / 1000;
    const int start_seconds = 8 * 3600 + random.UniformInt(0, 9 * 3600);
    std::array<std::pair<Laterality, View>, 4> views = standard_views;
    if (options.images_per_study < 4) {
      for (int i = 3; i > 0; --i) std::swap(views[i], views[random.UniformInt(0, i)]);
    }

    for (int position = 0; position < options.images_per_study; ++position) {
      const int index = study * options.images_per_study + position;
      if (index >= options.count) break;
      PlannedImage image;
      image.file = absl::StrFormat("synth_%0*d.dcm", file_width, index);
      image.study_date = study_day;

      MammogramParams& params = image.params;
      params.rows = options.rows;
      params.columns = options.columns;
      params.category = patient.category;
      params.laterality = views[position].first;
      params.view = views[position].second;
      params.photometric = monochrome1 ? Photometric::kMonochrome1 : Photometric::kMonochrome2;
      params.min_pixel_spacing_mm = params.max_pixel_spacing_mm = spacing;
      params.min_bits_stored = params.max_bits_stored = bits_stored;
      params.variability = options.variability;

      dicom::MammogramHeader& h = image.header;
      h.patient_name = absl::StrFormat("SYNTH^PATIENT%0*d", id_width, patient_index + 1);
      h.patient_id = absl::StrFormat("SYN%0*d", id_width, patient_index + 1);
      h.patient_birth_date = CompactDate(patient.birth);
      h.study_instance_uid = MakeUid(options.seed, kStudyUidKind, study);
      h.series_instance_uid = MakeUid(options.seed, kSeriesUidKind, study);
      h.sop_instance_uid = MakeUid(options.seed, kInstanceUidKind, index);
      h.study_date = CompactDate(study_day);
      const int seconds = start_seconds + 40 * position;
      h.study_time =
          absl::StrFormat("%02d%02d%02d", seconds / 3600, seconds / 60 % 60, seconds % 60);
      h.accession_number = absl::StrFormat("SYNA%07d", study + 1);
      h.study_id = absl::StrCat(study + 1);
      h.series_number = 1;
      h.instance_number = position + 1;

      const int c = static_cast<int>(patient.category);
      if (on_sheet[c] < options.contact_sheet_per_category) image.sheet_slot = on_sheet[c]++;
      plan.images.push_back(std::move(image));
    }
  }
  return plan;
}

// Removes the files an earlier run left in `folder`.
absl::Status RemoveEarlierRun(const fs::path& folder) {
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(folder, error)) {
    const std::string name = entry.path().filename().string();
    const bool ours = (absl::StartsWith(name, "synth_") && absl::EndsWith(name, ".dcm")) ||
                      name == kTruthFile || name == kContactSheetFile;
    if (ours && !fs::remove(entry.path(), error)) break;
  }
  if (error) {
    return Internal("SYNTH_WRITE_FAILED",
                    absl::StrCat("removing the earlier files in \"", folder.string(),
                                 "\" failed: ", error.message()),
                    {{"output_dir", folder.string()}});
  }
  return absl::OkStatus();
}

// Fails with ALREADY_EXISTS when `folder` contains files of an earlier run.
absl::Status CheckFolderIsFree(const fs::path& folder) {
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(folder, error)) {
    const std::string name = entry.path().filename().string();
    if (name == kTruthFile || (absl::StartsWith(name, "synth_") && absl::EndsWith(name, ".dcm"))) {
      return AlreadyExists(
          "SYNTH_OUTPUT_EXISTS",
          absl::StrCat("folder \"", folder.string(), "\" already contains \"", name,
                       "\" from an earlier run; choose another folder or pass "
                       "--overwrite"),
          {{"output_dir", folder.string()}, {"file", name}});
    }
  }
  return absl::OkStatus();
}

absl::Status WriteFileAtomically(const fs::path& path, absl::string_view content) {
  const fs::path temporary = path.string() + absl::StrCat(".part-", getpid());
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.close();
    if (!out) {
      return Internal("SYNTH_WRITE_FAILED",
                      absl::StrCat("writing \"", path.string(),
                                   "\" failed; check that the folder is writable and has space"),
                      {{"path", path.string()}});
    }
  }
  std::error_code error;
  fs::rename(temporary, path, error);
  if (error) {
    return Internal("SYNTH_WRITE_FAILED",
                    absl::StrCat("renaming to \"", path.string(), "\" failed: ", error.message()),
                    {{"path", path.string()}});
  }
  return absl::OkStatus();
}

std::string TruthCsv(const std::vector<TruthRow>& rows) {
  std::string csv = absl::StrCat(kTruthHeader, "\n");
  for (const TruthRow& row : rows) {
    absl::StrAppend(&csv, row.file, ",", row.sop_instance_uid, ",", row.patient_id, ",",
                    row.study_date, ",", LateralityCode(row.laterality), ",", ViewCode(row.view),
                    ",", CategoryLetter(row.category), ",",
                    absl::StrFormat("%.4f", row.dense_fraction), "\n");
  }
  return csv;
}

}  // namespace

absl::Status ValidateDatasetOptions(const DatasetOptions& o) {
  if (o.output_dir.empty()) return OptionError("out", "is missing; name the output folder");
  if (o.count < 1 || o.count > 1000000) {
    return OptionError("count", absl::StrCat("= ", o.count, " is invalid; use 1 to 1000000"));
  }
  if (o.patients < 0) {
    return OptionError("patients",
                       absl::StrCat("= ", o.patients, " is invalid; use 0 (automatic) or more"));
  }
  if (o.images_per_study < 1 || o.images_per_study > 4) {
    return OptionError("images_per_study",
                       absl::StrCat("= ", o.images_per_study, " is invalid; use 1 to 4"));
  }
  if (!(o.monochrome1_fraction >= 0 && o.monochrome1_fraction <= 1)) {
    return OptionError("monochrome1_fraction",
                       absl::StrCat("= ", o.monochrome1_fraction, " is invalid; use 0 to 1"));
  }

  double total = 0;
  for (double w : o.category_weights) {
    if (!(w >= 0) || !std::isfinite(w)) {
      return OptionError("category_weights",
                         "must be finite and not negative; use weights such as 0.1,0.4,0.4,0.1");
    }
    total += w;
  }
  if (total <= 0) {
    return OptionError("category_weights",
                       "must not all be zero; use weights such as 0.1,0.4,0.4,0.1");
  }

  absl::CivilDay day;
  if (!ParseCompactDate(o.first_study_date, day) || day.year() < 1900) {
    return OptionError("first_study_date",
                       absl::StrCat("= \"", o.first_study_date, "\" is invalid; use YYYYMMDD"));
  }
  if (o.contact_sheet_per_category < 0 || o.contact_sheet_per_category > 16) {
    return OptionError(
        "contact_sheet_per_category",
        absl::StrCat("= ", o.contact_sheet_per_category, " is invalid; use 0 to 16"));
  }
  if (o.threads < 1 || o.threads > 256) {
    return OptionError("threads", absl::StrCat("= ", o.threads, " is invalid; use 1 to 256"));
  }

  if (!(o.variability >= 0 && o.variability <= 1)) {
    return OptionError("variability", absl::StrCat("= ", o.variability, " is invalid; use 0 to 1"));
  }

  MammogramParams params;
  params.rows = o.rows;
  params.columns = o.columns;
  if (absl::Status status = ValidateParams(params); !status.ok()) {
    return OptionError("size", absl::StrCat("= ", o.rows, "x", o.columns,
                                            " is invalid; use 64 to 4096 pixels per side"));
  }
  return absl::OkStatus();
}

absl::StatusOr<DatasetSummary> GenerateDataset(const DatasetOptions& options) {
  AILAB_RETURN_IF_ERROR(ValidateDatasetOptions(options));
  auto logger = log::Logger("synth");

  // Output folder.
  const fs::path folder(options.output_dir);
  std::error_code error;
  fs::create_directories(folder, error);
  if (error || !fs::is_directory(folder)) {
    return FailedPrecondition(
        "SYNTH_OUTPUT_FOLDER_UNAVAILABLE",
        absl::StrCat("output folder \"", options.output_dir, "\" cannot be created: ",
                     error ? error.message() : "a file of that name exists"),
        {{"output_dir", options.output_dir}});
  }
  if (options.overwrite) {
    AILAB_RETURN_IF_ERROR(RemoveEarlierRun(folder));
  } else {
    AILAB_RETURN_IF_ERROR(CheckFolderIsFree(folder));
  }

  Plan plan = MakePlan(options);
  logger->info(
      "dataset generation started output_dir={} images={} studies={} patients={} "
      "seed={} threads={}",
      options.output_dir, options.count, plan.studies, plan.patients, options.seed,
      options.threads);

  // Images, on `threads` workers that take the next index in turn. Each image depends
  // only on its index, so the order of work does not change the files.
  DatasetSummary summary;
  summary.rows.resize(plan.images.size());
  ContactSheet sheet(options.rows, options.columns, options.contact_sheet_per_category);
  std::atomic<size_t> next{0};
  std::atomic<size_t> done{0};
  std::atomic<bool> failed{false};
  absl::Status first_error;
  std::mutex mutex;
  const size_t report_every = std::max<size_t>(50, plan.images.size() / 10);
  auto work = [&] {
    for (size_t i = next.fetch_add(1); i < plan.images.size() && !failed; i = next.fetch_add(1)) {
      const PlannedImage& planned = plan.images[i];
      Random random(MixBits(options.seed ^ kImageSalt, i));
      absl::StatusOr<SyntheticImage> image = GenerateMammogram(planned.params, random);
      absl::Status status = image.status();
      if (status.ok()) {
        status = dicom::WriteMammogram(*image, planned.header, (folder / planned.file).string());
      }
      if (!status.ok()) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!failed.exchange(true)) first_error = Annotate(status, planned.file);
        return;
      }
      TruthRow& row = summary.rows[i];
      row.file = planned.file;
      row.sop_instance_uid = planned.header.sop_instance_uid;
      row.patient_id = planned.header.patient_id;
      row.study_date = IsoDate(planned.study_date);
      row.laterality = image->laterality;
      row.view = image->view;
      row.category = image->category;
      row.dense_fraction = image->dense_fraction;
      if (planned.sheet_slot >= 0) sheet.Add(*image, planned.sheet_slot);
      const size_t finished = done.fetch_add(1) + 1;
      if (finished % report_every == 0) {
        logger->info("dataset progress output_dir={} written={}/{}", options.output_dir, finished,
                     plan.images.size());
      }
    }
  };
  std::vector<std::thread> workers;
  const int thread_count = std::min<int>(options.threads, static_cast<int>(plan.images.size()));
  for (int t = 1; t < thread_count; ++t) workers.emplace_back(work);
  work();
  for (std::thread& worker : workers) worker.join();
  if (failed) {
    logger->error("dataset generation failed output_dir={} error={}", options.output_dir,
                  first_error.ToString());
    return first_error;
  }

  // The contact sheet, then truth.csv last: a folder with truth.csv is complete.
  if (options.contact_sheet_per_category > 0) {
    AILAB_ASSIGN_OR_RETURN(std::string png, sheet.EncodePng());
    const fs::path sheet_path = folder / std::string(kContactSheetFile);
    AILAB_RETURN_IF_ERROR(WriteFileAtomically(sheet_path, png));
    summary.contact_sheet_path = sheet_path.string();
  }
  const fs::path truth_path = folder / std::string(kTruthFile);
  AILAB_RETURN_IF_ERROR(WriteFileAtomically(truth_path, TruthCsv(summary.rows)));

  summary.output_dir = options.output_dir;
  summary.truth_path = truth_path.string();
  summary.images = static_cast<int>(plan.images.size());
  summary.studies = plan.studies;
  summary.patients = plan.patients;
  absl::CivilDay first = plan.images.front().study_date, last = first;
  for (const PlannedImage& image : plan.images) {
    first = std::min(first, image.study_date);
    last = std::max(last, image.study_date);
  }
  summary.first_study_date = IsoDate(first);
  summary.last_study_date = IsoDate(last);
  for (const TruthRow& row : summary.rows)
    ++summary.images_per_category[static_cast<int>(row.category)];
  logger->info("dataset generation finished output_dir={} images={} studies={} patients={}",
               options.output_dir, summary.images, summary.studies, summary.patients);
  return summary;
}

absl::Status ParseImageSize(absl::string_view text, int& rows, int& columns) {
  const std::vector<absl::string_view> parts = absl::StrSplit(text, absl::ByAnyChar("xX"));
  int r = 0, c = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &r) || !absl::SimpleAtoi(parts[1], &c)) {
    return OptionError(
        "size", absl::StrCat("= \"", text, "\" is invalid; use ROWSxCOLUMNS, for example 512x416"));
  }
  rows = r;
  columns = c;
  return absl::OkStatus();
}

absl::StatusOr<std::array<double, kDensityCategoryCount>> ParseCategoryWeights(
    absl::string_view text) {
  const std::vector<absl::string_view> parts = absl::StrSplit(text, ',');
  std::array<double, kDensityCategoryCount> weights{};
  bool valid = parts.size() == kDensityCategoryCount;
  double total = 0;
  for (size_t i = 0; valid && i < parts.size(); ++i) {
    valid = absl::SimpleAtod(absl::StripAsciiWhitespace(parts[i]), &weights[i]) &&
            std::isfinite(weights[i]) && weights[i] >= 0;
    total += weights[i];
  }
  if (!valid || total <= 0) {
    return OptionError("category_weights",
                       absl::StrCat("= \"", text,
                                    "\" is invalid; give four non-negative weights for A,B,C,D, "
                                    "not all zero, for example 0.1,0.4,0.4,0.1"));
  }
  return weights;
}

absl::StatusOr<std::vector<TruthRow>> ReadTruthCsv(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return NotFound("SYNTH_TRUTH_NOT_FOUND",
                    absl::StrCat("truth file \"", path, "\" cannot be opened"), {{"path", path}});
  }
  auto malformed = [&](int line_number, absl::string_view problem) {
    return InvalidArgument(
        "SYNTH_TRUTH_MALFORMED", "truth",
        absl::StrCat("truth file \"", path, "\" line ", line_number, ": ", problem),
        {{"path", path}, {"line", absl::StrCat(line_number)}});
  };
  std::string line;
  if (!std::getline(in, line) || absl::StripTrailingAsciiWhitespace(line) != kTruthHeader) {
    return malformed(1, absl::StrCat("the header is not \"", kTruthHeader, "\""));
  }
  std::vector<TruthRow> rows;
  for (int line_number = 2; std::getline(in, line); ++line_number) {
    const absl::string_view text = absl::StripTrailingAsciiWhitespace(line);
    if (text.empty()) continue;
    const std::vector<std::string> fields = absl::StrSplit(text, ',');
    if (fields.size() != 8) {
      return malformed(line_number, absl::StrCat("has ", fields.size(), " fields, not 8"));
    }
    TruthRow row;
    row.file = fields[0];
    row.sop_instance_uid = fields[1];
    row.patient_id = fields[2];
    row.study_date = fields[3];
    if (fields[4] != "L" && fields[4] != "R") {
      return malformed(line_number, absl::StrCat("laterality \"", fields[4], "\" is not L or R"));
    }
    row.laterality = fields[4] == "L" ? Laterality::kLeft : Laterality::kRight;
    if (fields[5] != "CC" && fields[5] != "MLO") {
      return malformed(line_number, absl::StrCat("view \"", fields[5], "\" is not CC or MLO"));
    }
    row.view = fields[5] == "CC" ? View::kCranioCaudal : View::kMediolateralOblique;
    absl::StatusOr<DensityCategory> category = ParseCategory(fields[6]);
    if (!category.ok()) return malformed(line_number, category.status().message());
    row.category = *category;
    if (!absl::SimpleAtod(fields[7], &row.dense_fraction) || row.dense_fraction < 0 ||
        row.dense_fraction > 1) {
      return malformed(line_number,
                       absl::StrCat("dense_fraction \"", fields[7], "\" is not in [0, 1]"));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string SummaryJson(const DatasetSummary& s) {
  std::vector<std::string> categories;
  for (int c = 0; c < kDensityCategoryCount; ++c) {
    categories.push_back(absl::StrCat(JsonString(CategoryLetter(static_cast<DensityCategory>(c))),
                                      ": ", s.images_per_category[c]));
  }
  return absl::StrCat(
      "{\"output_dir\": ", JsonString(s.output_dir), ", \"truth\": ", JsonString(s.truth_path),
      ", \"contact_sheet\": ", JsonString(s.contact_sheet_path), ", \"images\": ", s.images,
      ", \"studies\": ", s.studies, ", \"patients\": ", s.patients, ", \"images_per_category\": {",
      absl::StrJoin(categories, ", "), "}, \"first_study_date\": ", JsonString(s.first_study_date),
      ", \"last_study_date\": ", JsonString(s.last_study_date), "}");
}

}  // namespace ailab::synth
