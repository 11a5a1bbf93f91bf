// Preparation benchmark: reads each DICOM file named on standard input (one path per
// line) and prepares it as the ingest service does. It parses the file, decodes the
// first frame, applies the automatic VOI choice and encodes an 8-bit PNG at the
// requested zlib level, then (unless --no_array) builds the model-input array and
// encodes it as .npy. One thread, no blob store.
//
//   bench_preparation [--png_level=6] [--array_size=256] [--no_array] [--repeat=1] [--wall]
//     < list
//
// Prints one line per file, "FILE <path> ok <megapixels> <seconds> <png bytes>" or
// "FILE <path> error <reason>", then "TOTAL <files ok> <seconds> <megapixels> <png bytes>"
// and "PEAK_RSS_MIB <value>". Seconds are the best of --repeat runs per file, and
// include reading the file. They are CPU seconds of the process (user and system), so
// that other work on a shared machine does not count, or with --wall elapsed seconds.
#include <sys/resource.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "ailab/dicom/dicom.h"
#include "ailab/dicom/pixels.h"
#include "ailab/imaging/npy.h"
#include "ailab/imaging/png.h"
#include "ailab/status/status.h"

namespace {

struct Settings {
  int png_level = 6;
  int array_size = 256;
  bool array = true;
  int repeat = 1;
  bool wall = false;
};

// Seconds of CPU time of this process (user and system), or of elapsed time.
double Now(bool wall) {
  if (wall) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

struct Outcome {
  double megapixels = 0;
  size_t png_bytes = 0;
};

absl::StatusOr<Outcome> Prepare(const std::string& path, const Settings& settings) {
  std::ifstream file(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  AILAB_ASSIGN_OR_RETURN(ailab::dicom::DicomObject object, ailab::dicom::ParseDicom(bytes, path));
  AILAB_ASSIGN_OR_RETURN(ailab::dicom::DecodedFrame frame, ailab::dicom::DecodeFrame(object, 0));
  AILAB_ASSIGN_OR_RETURN(std::vector<float> display, ailab::dicom::ToDisplay(object, frame));
  ailab::dicom::Display8 rendering = ailab::dicom::ToDisplay8(display, frame.rows, frame.columns);
  AILAB_ASSIGN_OR_RETURN(std::string png,
                         ailab::imaging::EncodePng8(rendering.pixels, rendering.columns,
                                                    rendering.rows, settings.png_level));
  if (settings.array) {
    ailab::dicom::PrepareOptions options;
    options.size = settings.array_size;
    AILAB_ASSIGN_OR_RETURN(ailab::dicom::PreparedArray prepared,
                           ailab::dicom::PrepareArrayFromDisplay(
                               object, std::move(display), frame.rows, frame.columns, options));
    AILAB_ASSIGN_OR_RETURN(std::string npy, ailab::imaging::EncodeNpy(prepared.array));
  }
  Outcome outcome;
  outcome.megapixels = static_cast<double>(frame.rows) * frame.columns / 1e6;
  outcome.png_bytes = png.size();
  return outcome;
}

bool ParseFlag(const std::string& argument, absl::string_view name, int* value) {
  std::string prefix = absl::StrCat("--", name, "=");
  if (!absl::StartsWith(argument, prefix)) return false;
  if (!absl::SimpleAtoi(argument.substr(prefix.size()), value)) {
    std::cerr << "bench_preparation: " << argument << " is not an integer\n";
    std::exit(2);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  for (int i = 1; i < argc; ++i) {
    std::string argument = argv[i];
    if (argument == "--no_array") {
      settings.array = false;
    } else if (argument == "--wall") {
      settings.wall = true;
    } else if (!ParseFlag(argument, "png_level", &settings.png_level) &&
               !ParseFlag(argument, "array_size", &settings.array_size) &&
               !ParseFlag(argument, "repeat", &settings.repeat)) {
      std::cerr << "bench_preparation: unknown argument " << argument
                << "; use --png_level=N --array_size=N --repeat=N --no_array --wall\n";
      return 2;
    }
  }

  // As the ingest service does before it prepares images.
  if (!ailab::dicom::KeepImageMemoryInHeap()) {
    std::cerr << "bench_preparation: glibc rejected the allocator settings\n";
  }

  int ok = 0;
  double total_seconds = 0, total_megapixels = 0;
  size_t total_png_bytes = 0;
  std::string path;
  while (std::getline(std::cin, path)) {
    if (path.empty()) continue;
    double best = 0;
    absl::StatusOr<Outcome> outcome;
    for (int r = 0; r < std::max(1, settings.repeat); ++r) {
      double start = Now(settings.wall);
      outcome = Prepare(path, settings);
      double seconds = Now(settings.wall) - start;
      if (r == 0 || seconds < best) best = seconds;
      if (!outcome.ok()) break;
    }
    if (!outcome.ok()) {
      std::cout << "FILE " << path << " error " << ailab::GetErrorReason(outcome.status()) << "\n";
      continue;
    }
    ++ok;
    total_seconds += best;
    total_megapixels += outcome->megapixels;
    total_png_bytes += outcome->png_bytes;
    std::cout << "FILE " << path << " ok " << outcome->megapixels << " " << best << " "
              << outcome->png_bytes << "\n";
  }
  std::cout << "TOTAL " << ok << " " << total_seconds << " " << total_megapixels << " "
            << total_png_bytes << "\n";
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::cout << "PEAK_RSS_MIB " << usage.ru_maxrss / 1024.0 << "\n";
  return 0;
}
