// `ailab run ...`: runs a model on an image through the inference service
// (ailab.inference.v1.InferenceService), lists and reviews the recorded predictions,
// and sets a site's report template.
//
// `predict` prints the category, the probabilities and the report text, or the
// Prediction as protobuf JSON with --json; the other commands print protobuf JSON.
// The reviewer comes from --reviewer, else --user, else the AILAB_USER environment
// variable.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ailab/inference/v1/inference.grpc.pb.h"
#include "ailab/rpc/client.h"
#include "ailab/rpc/status.h"
#include "ailab/status/status.h"
#include "cli.h"
#include "google/protobuf/util/json_util.h"

namespace ailab::cli {
namespace {

using ::ailab::inference::v1::InferenceService;

// Inference may wait for a model to load.
constexpr absl::Duration kCallTimeout = absl::Minutes(2);

// Calls one method of the inference service and returns its response or error.
template <typename Request, typename Response>
absl::StatusOr<Response> Call(const Args& args,
                              grpc::Status (InferenceService::Stub::*method)(grpc::ClientContext*,
                                                                             const Request&,
                                                                             Response*),
                              const Request& request) {
  auto stub = InferenceService::NewStub(rpc::Connect(ServiceAddress(args, "inference")));
  return CallUnary(*stub, method, request, kCallTimeout);
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return NotFound("FILE_NOT_FOUND",
                    absl::StrCat("cannot read \"", path, "\"; check the path of --file"),
                    {{"file", path}});
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// True for PNG bytes (the 8-byte signature) or a DICOM Part 10 file ("DICM" at 128).
bool LooksLikePng(const std::string& bytes) { return absl::StartsWith(bytes, "\x89PNG\r\n\x1a\n"); }
bool LooksLikeDicom(const std::string& bytes) {
  return bytes.size() > 132 && bytes.compare(128, 4, "DICM") == 0;
}

absl::Status Predict(const Args& args) {
  AILAB_ASSIGN_OR_RETURN(std::string model, args.Require("model"));
  inference::v1::PredictRequest request;
  request.set_model(model);
  request.set_site(args.Get("site"));
  if (args.Has("instance") == args.Has("file")) {
    return InvalidArgument("MISSING_OPTION", "instance",
                           "pass exactly one of --instance NAME and --file PATH");
  }
  if (args.Has("instance")) {
    AILAB_ASSIGN_OR_RETURN(std::string instance, args.Require("instance"));
    request.set_instance(instance);
  } else {
    AILAB_ASSIGN_OR_RETURN(std::string path, args.Require("file"));
    AILAB_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
    const std::string lower = absl::AsciiStrToLower(path);
    if (absl::EndsWith(lower, ".png") || LooksLikePng(bytes)) {
      request.set_png(bytes);
    } else if (absl::EndsWith(lower, ".dcm") || absl::EndsWith(lower, ".dicom") ||
               LooksLikeDicom(bytes)) {
      request.set_dicom(bytes);
    } else {
      return InvalidArgument("UNKNOWN_FILE_TYPE", "file",
                             absl::StrCat("\"", path,
                                          "\" is neither a PNG nor a DICOM file; pass a .png or "
                                          ".dcm file"),
                             {{"file", path}});
    }
    request.set_file_name(path.substr(path.find_last_of('/') + 1));
  }
  request.set_skip_recording(args.Has("no_record"));
  AILAB_ASSIGN_OR_RETURN(inference::v1::Prediction prediction,
                         Call(args, &InferenceService::Stub::Predict, request));
  if (args.Has("json")) return PrintJson(prediction);

  std::printf("prediction: %s\n", prediction.name().empty() ? "(not recorded)"
                                                            : prediction.name().c_str());
  std::printf("category:   %s\n", prediction.category().c_str());
  std::printf("probabilities:\n");
  for (const auto& entry : prediction.probabilities()) {
    std::printf("  %-12s %6.4f  %s\n", entry.category().c_str(), entry.probability(),
                entry.label().c_str());
  }
  std::printf("report text: %s\n", prediction.report_text().c_str());
  if (!prediction.study_date().empty()) {
    std::printf("study date: %s\n", prediction.study_date().c_str());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> Reviewer(const Args& args) {
  if (args.Has("reviewer")) return args.Require("reviewer");
  if (args.Has("user")) return args.Require("user");
  if (const char* user = std::getenv("AILAB_USER"); user != nullptr && *user != '\0') {
    return std::string(user);
  }
  return InvalidArgument("MISSING_OPTION", "reviewer",
                         "option --reviewer is required (or --user, or set AILAB_USER): the id "
                         "of the radiologist reviewing");
}

absl::Status Review(const Args& args) {
  AILAB_ASSIGN_OR_RETURN(std::string name, args.Require("prediction"));
  inference::v1::ReviewPredictionRequest request;
  request.set_name(name);
  if (args.Has("confirm") == args.Has("correct")) {
    return InvalidArgument("MISSING_OPTION", "confirm",
                           "pass exactly one of --confirm and --correct CATEGORY");
  }
  if (args.Has("confirm")) {
    request.set_state(inference::v1::Review::CONFIRMED);
  } else {
    AILAB_ASSIGN_OR_RETURN(std::string category, args.Require("correct"));
    request.set_state(inference::v1::Review::CORRECTED);
    request.set_corrected_category(category);
  }
  AILAB_ASSIGN_OR_RETURN(std::string reviewer, Reviewer(args));
  request.set_reviewer(reviewer);
  request.set_comment(args.Get("comment"));
  AILAB_ASSIGN_OR_RETURN(inference::v1::Prediction prediction,
                         Call(args, &InferenceService::Stub::ReviewPrediction, request));
  return PrintJson(prediction);
}

absl::Status GetPrediction(const Args& args) {
  AILAB_ASSIGN_OR_RETURN(std::string name, args.Require("prediction"));
  inference::v1::GetPredictionRequest request;
  request.set_name(name);
  AILAB_ASSIGN_OR_RETURN(inference::v1::Prediction prediction,
                         Call(args, &InferenceService::Stub::GetPrediction, request));
  return PrintJson(prediction);
}

absl::Status ListPredictions(const Args& args) {
  inference::v1::ListPredictionsRequest request;
  request.set_model(args.Get("model"));
  request.set_instance(args.Get("instance"));
  if (args.Has("reviewed")) {
    const std::string reviewed = args.Get("reviewed");
    if (reviewed != "true" && reviewed != "false") {
      return InvalidArgument("INVALID_OPTION", "reviewed",
                             absl::StrCat("--reviewed \"", reviewed, "\" must be true or false"));
    }
    request.set_reviewed(reviewed == "true");
  }
  AILAB_ASSIGN_OR_RETURN(int64_t page_size, args.GetInt("page_size", 0));
  request.set_page_size(static_cast<int32_t>(page_size));
  request.set_page_token(args.Get("page_token"));
  AILAB_ASSIGN_OR_RETURN(inference::v1::ListPredictionsResponse response,
                         Call(args, &InferenceService::Stub::ListPredictions, request));
  return PrintJson(response);
}

absl::Status SetTemplate(const Args& args) {
  AILAB_ASSIGN_OR_RETURN(std::string site, args.Require("site"));
  AILAB_ASSIGN_OR_RETURN(std::string use_case, args.Require("use_case"));
  const std::string use_case_id = absl::StartsWith(use_case, "useCases/")
                                      ? use_case.substr(sizeof("useCases/") - 1)
                                      : use_case;
  inference::v1::UpdateReportTemplateRequest request;
  request.mutable_report_template()->set_name(
      absl::StrCat("sites/", site, "/reportTemplates/", use_case_id));
  const std::string blank = args.Get("blank_when_negative", "true");
  if (blank != "true" && blank != "false") {
    return InvalidArgument("INVALID_OPTION", "blank_when_negative",
                           absl::StrCat("--blank_when_negative \"", blank,
                                        "\" must be true or false"));
  }
  request.mutable_report_template()->set_blank_when_negative(blank == "true");
  AILAB_ASSIGN_OR_RETURN(inference::v1::ReportTemplate result,
                         Call(args, &InferenceService::Stub::UpdateReportTemplate, request));
  return PrintJson(result);
}

}  // namespace

AILAB_CLI_COMMAND({"run", "predict", "Run a model on a dataset instance or an image file",
                   "--model models/ID (--instance datasets/D/instances/I | --file PATH.dcm|.png) "
                   "[--site SITE] [--no_record] [--json]",
                   &Predict});
AILAB_CLI_COMMAND({"run", "review", "Confirm or correct a recorded prediction",
                   "--prediction predictions/ID (--confirm | --correct CATEGORY) "
                   "[--reviewer USER | --user USER] [--comment TEXT]",
                   &Review});
AILAB_CLI_COMMAND({"run", "get", "Show one recorded prediction", "--prediction predictions/ID",
                   &GetPrediction});
AILAB_CLI_COMMAND({"run", "list", "List recorded predictions, newest first",
                   "[--model models/ID] [--instance NAME] [--reviewed true|false] "
                   "[--page_size N] [--page_token TOKEN]",
                   &ListPredictions});
AILAB_CLI_COMMAND({"run", "set-template", "Set how a site's report text is written",
                   "--site SITE --use_case useCases/ID [--blank_when_negative true|false]",
                   &SetTemplate});

}  // namespace ailab::cli
