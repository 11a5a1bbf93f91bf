// `ailab annotate ...`: label a dataset's instances for a use case, follow progress,
// contests and agreement, and export labels, through the annotation service
// (ailab.annotation.v1.AnnotationService).
//
// Results print as protobuf JSON. The acting user comes from --user or, when that is
// absent, from the AILAB_USER environment variable, and travels as the x-ailab-user
// metadata, so the service applies its caller rules to the command.
//
// `annotate simulate` plays a reader for demos and tests: it labels every instance it
// finds in a synthetic dataset's truth.csv, with a chosen rate of deliberate errors.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "ailab/annotation/v1/annotation.grpc.pb.h"
#include "ailab/catalog/v1/catalog.grpc.pb.h"
#include "ailab/ingest/v1/ingest.grpc.pb.h"
#include "ailab/rpc/client.h"
#include "ailab/rpc/status.h"
#include "ailab/status/status.h"
#include "cli.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"

namespace ailab::cli {
namespace {

namespace annotation = ::ailab::annotation::v1;
using ::ailab::annotation::v1::AnnotationService;

constexpr absl::Duration kCallTimeout = absl::Seconds(60);

// Prints responses with default-valued fields, so zero counts still show.
google::protobuf::util::JsonPrintOptions JsonOptions() {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  return options;
}

absl::StatusOr<std::string> User(const Args& args) {
  return RequireUser(args, "the annotator making the request");
}

// A connection to the annotation service acting as one user ("" for none).
class Client {
 public:
  Client(const Args& args, std::string user)
      : stub_(AnnotationService::NewStub(rpc::Connect(ServiceAddress(args, "annotation")))),
        user_(std::move(user)) {}

  template <typename Request, typename Response>
  absl::StatusOr<Response> Call(grpc::Status (AnnotationService::Stub::*method)(
                                    grpc::ClientContext*, const Request&, Response*),
                                const Request& request) {
    return CallUnary(*stub_, method, request, kCallTimeout, user_);
  }

 private:
  std::unique_ptr<AnnotationService::Stub> stub_;
  std::string user_;
};

// The options every per-annotator command takes.
struct AnnotatorSet {
  std::string use_case;
  std::string dataset;
  std::string user;
};

absl::StatusOr<AnnotatorSet> RequireSet(const Args& args) {
  AnnotatorSet set;
  AILAB_ASSIGN_OR_RETURN(set.use_case, args.Require("use_case"));
  AILAB_ASSIGN_OR_RETURN(set.dataset, args.Require("dataset"));
  AILAB_ASSIGN_OR_RETURN(set.user, User(args));
  return set;
}

// Parses --box "x,y,width,height,label[,score]".
absl::StatusOr<annotation::Box> ParseBox(const std::string& text) {
  std::vector<std::string> parts = absl::StrSplit(text, ',');
  auto invalid = [&](absl::string_view why) {
    return InvalidArgument("INVALID_OPTION", "box",
                           absl::StrCat("--box \"", text, "\" is invalid: ", why,
                                        "; expected x,y,width,height,label[,score] in pixels"),
                           {{"box", text}});
  };
  if (parts.size() != 5 && parts.size() != 6) return invalid("wrong number of values");
  double values[4];
  for (int i = 0; i < 4; ++i) {
    if (!absl::SimpleAtod(parts[i], &values[i])) return invalid(absl::StrCat("\"", parts[i], "\""));
  }
  annotation::Box box;
  box.set_x(values[0]);
  box.set_y(values[1]);
  box.set_width(values[2]);
  box.set_height(values[3]);
  box.set_label(std::string(absl::StripAsciiWhitespace(parts[4])));
  if (parts.size() == 6) {
    double score = 0;
    if (!absl::SimpleAtod(parts[5], &score)) return invalid("the score is not a number");
    box.set_score(score);
  }
  return box;
}

// --- annotating ------------------------------------------------------------------------

absl::Status Next(const Args& args) {
  AILAB_ASSIGN_OR_RETURN(AnnotatorSet set, RequireSet(args));
  annotation::GetNextInstanceRequest request;
  request.set_use_case(set.use_case);
  request.set_dataset(set.dataset);
  request.set_annotator(set.user);
  request.set_include_skipped(args.Has("include_skipped"));
  Client client(args, set.user);
  AILAB_ASSIGN_OR_RETURN(auto response,
                         client.Call(&AnnotationService::Stub::GetNextInstance, request));
  return PrintJson(response, JsonOptions());
}

absl::Status Save(const Args& args) {
  AILAB_ASSIGN_OR_RETURN(AnnotatorSet set, RequireSet(args));
  annotation::SaveAnnotationRequest request;
  request.set_use_case(set.use_case);
  request.set_dataset(set.dataset);
  request.set_annotator(set.user);
  AILAB_ASSIGN_OR_RETURN(*request.mutable_instance(), args.Require("instance"));
  request.set_label(args.Get("label"));
  for (const std::string& text : args.GetAll("box")) {
    AILAB_ASSIGN_OR_RETURN(*request.add_boxes(), ParseBox(text));
  }
  AILAB_ASSIGN_OR_RETURN(int64_t revision, args.GetInt("expected_revision", 0));
  request.set_expected_revision(revision);
  Client client(args, set.user);
  AILAB_ASSIGN_OR_RETURN(auto response,
                         client.Call(&AnnotationService::Stub::SaveAnnotation, request));
  return PrintJson(response, JsonOptions());
}

absl::Status Skip(const Args& args) {
  AILAB_ASSIGN_OR_RETURN(AnnotatorSet set, RequireSet(args));
  annotation::SkipInstanceRequest request;
  request.set_use_case(set.use_case);
  request.set_dataset(set.dataset);
  request.set_annotator(set.user);
  AILAB_ASSIGN_OR_RETURN(*request.mutable_instance(), args.Require("instance"));
  Client client(args, set.user);
  AILAB_ASSIGN_OR_RETURN(auto response,
                         client.Call(&AnnotationService::Stub::SkipInstance, request));
  return PrintJson(response, JsonOptions());
}

absl::Status Finish(const Args& args) {
  AILAB_ASSIGN_OR_RETURN(AnnotatorSet set, RequireSet(args));
  annotation::FinishSessionRequest request;
  request.set_use_case(set.use_case);
  request.set_dataset(set.dataset);
  request.set_annotator(set.user);
  Client client(args, set.user);
  AILAB_ASSIGN_OR_RETURN(auto response,
                         client.Call(&AnnotationService::Stub::FinishSession, request));
  return PrintJson(response, JsonOptions());
}

absl::Status List(const Args& args) {
  AILAB_ASSIGN_OR_RETURN(AnnotatorSet set, RequireSet(args));
  annotation::ListAnnotationsRequest request;
  request.set_use_case(set.use_case);
  request.set_dataset(set.dataset);
  request.set_annotator(set.user);
  std::string filter = args.Get("filter");
  if (args.Has("state")) {
    filter = absl::StrCat(filter.empty() ? "" : filter + " AND ", "state=", args.Get("state"));
  }
  request.set_filter(filter);
  AILAB_ASSIGN_OR_RETURN(int64_t page_size, args.GetInt("page_size", 0));
  request.set_page_size(static_cast<int32_t>(page_size));
  request.set_page_token(args.Get("page_token"));

  Client client(args, set.user);
  annotation::ListAnnotationsResponse combined;
  while (true) {
    AILAB_ASSIGN_OR_RETURN(auto page,
                           client.Call(&AnnotationService::Stub::ListAnnotations, request));
    for (auto& item : *page.mutable_annotations()) *combined.add_annotations() = std::move(item);
    combined.set_total_size(page.total_size());
    combined.set_next_page_token(page.next_page_token());
    if (!args.Has("all") || page.next_page_token().empty()) break;
    request.set_page_token(page.next_page_token());
  }
  return PrintJson(combined, JsonOptions());
}

absl::Status Progress(const Args& args) {
  AILAB_ASSIGN_OR_RETURN(AnnotatorSet set, RequireSet(args));
  annotation::GetAnnotationProgressRequest request;
  request.set_use_case(set.use_case);
  request.set_dataset(set.dataset);
  request.set_annotator(set.user);
  Client client(args, set.user);
  AILAB_ASSIGN_OR_RETURN(auto response,
                         client.Call(&AnnotationService::Stub::GetAnnotationProgress, request));
  return PrintJson(response, JsonOptions());
}

// --- contests, quotas, reference readers ------------------------------------------------

absl::Status Ranking(const Args& args) {
  annotation::ListAnnotatorRankingsRequest request;
  request.set_contest(args.Get("contest"));
  request.set_use_case(args.Get("use_case"));
  request.set_dataset(args.Get("dataset"));
  AILAB_ASSIGN_OR_RETURN(int64_t page_size, args.GetInt("page_size", 0));
  request.set_page_size(static_cast<int32_t>(page_size));
  Client client(args, "");
  annotation::ListAnnotatorRankingsResponse combined;
  while (true) {
    AILAB_ASSIGN_OR_RETURN(auto page,
                           client.Call(&AnnotationService::Stub::ListAnnotatorRankings, request));
    for (auto& item : *page.mutable_rankings()) *combined.add_rankings() = std::move(item);
    combined.set_total_size(page.total_size());
    if (page.next_page_token().empty()) break;
    request.set_page_token(page.next_page_token());
  }
  return PrintJson(combined, JsonOptions());
}

absl::Status CreateContest(const Args& args) {
  annotation::CreateContestRequest request;
  annotation::Contest* contest = request.mutable_contest();
  AILAB_ASSIGN_OR_RETURN(*contest->mutable_use_case(), args.Require("use_case"));
  AILAB_ASSIGN_OR_RETURN(*contest->mutable_dataset(), args.Require("dataset"));
  contest->set_display_name(args.Get("display_name"));
  for (const char* key : {"start", "end"}) {
    AILAB_ASSIGN_OR_RETURN(std::string text, args.Require(key));
    google::protobuf::Timestamp time;
    if (!google::protobuf::util::TimeUtil::FromString(text, &time)) {
      return InvalidArgument("INVALID_OPTION", key,
                             absl::StrCat("--", key, " \"", text,
                                          "\" is not an RFC 3339 time such as "
                                          "2026-12-04T09:00:00Z"),
                             {{key, text}});
    }
    *(std::string(key) == "start" ? contest->mutable_start_time() : contest->mutable_end_time()) =
        time;
  }
  Client client(args, "");
  AILAB_ASSIGN_OR_RETURN(auto response,
                         client.Call(&AnnotationService::Stub::CreateContest, request));
  return PrintJson(response, JsonOptions());
}

absl::Status SetQuota(const Args& args) {
  annotation::SetQuotaRequest request;
  AILAB_ASSIGN_OR_RETURN(*request.mutable_use_case(), args.Require("use_case"));
  AILAB_ASSIGN_OR_RETURN(*request.mutable_dataset(), args.Require("dataset"));
  AILAB_RETURN_IF_ERROR(args.Require("quota").status());
  AILAB_ASSIGN_OR_RETURN(int64_t quota, args.GetInt("quota", 0));
  request.set_quota(quota);
  Client client(args, "");
  AILAB_ASSIGN_OR_RETURN(auto response, client.Call(&AnnotationService::Stub::SetQuota, request));
  return PrintJson(response, JsonOptions());
}

absl::Status SetReference(const Args& args) {
  annotation::SetReferenceReaderRequest request;
  AILAB_ASSIGN_OR_RETURN(*request.mutable_use_case(), args.Require("use_case"));
  AILAB_ASSIGN_OR_RETURN(*request.mutable_dataset(), args.Require("dataset"));
  AILAB_ASSIGN_OR_RETURN(*request.mutable_annotator(), args.Require("reader"));
  Client client(args, "");
  AILAB_ASSIGN_OR_RETURN(auto response,
                         client.Call(&AnnotationService::Stub::SetReferenceReader, request));
  return PrintJson(response, JsonOptions());
}

absl::Status Agreement(const Args& args) {
  AILAB_ASSIGN_OR_RETURN(AnnotatorSet set, RequireSet(args));
  annotation::GetAgreementRequest request;
  request.set_use_case(set.use_case);
  request.set_dataset(set.dataset);
  request.set_annotator(set.user);
  Client client(args, set.user);
  AILAB_ASSIGN_OR_RETURN(auto agreement,
                         client.Call(&AnnotationService::Stub::GetAgreement, request));
  if (!args.Has("table")) return PrintJson(agreement, JsonOptions());

  // Rows are the reference reader, columns the annotator.
  const auto& matrix = agreement.confusion_matrix();
  const int n = matrix.categories_size();
  std::printf("%-12s", "ref \\ you");
  for (int c = 0; c < n; ++c) std::printf(" %8s", matrix.categories(c).c_str());
  std::printf("\n");
  for (int r = 0; r < n; ++r) {
    std::printf("%-12s", matrix.categories(r).c_str());
    for (int c = 0; c < n; ++c) std::printf(" %8lld", static_cast<long long>(matrix.counts(r * n + c)));
    std::printf("\n");
  }
  std::printf("compared %lld  accuracy %.3f  kappa %.3f  linear kappa %.3f\n",
              static_cast<long long>(agreement.compared_count()), agreement.accuracy(),
              agreement.kappa(), agreement.linear_kappa());
  return absl::OkStatus();
}

absl::StatusOr<annotation::TieRule> ParseTieRule(const Args& args) {
  std::string rule = absl::AsciiStrToLower(args.Get("tie_rule", "first_category"));
  if (rule == "first_category") return annotation::FIRST_CATEGORY;
  if (rule == "exclude") return annotation::EXCLUDE;
  return InvalidArgument("INVALID_OPTION", "tie_rule",
                         absl::StrCat("--tie_rule \"", rule,
                                      "\" is not valid; use first_category or exclude"),
                         {{"tie_rule", rule}});
}

absl::Status Export(const Args& args) {
  annotation::ExportLabelsRequest request;
  AILAB_ASSIGN_OR_RETURN(*request.mutable_use_case(), args.Require("use_case"));
  AILAB_ASSIGN_OR_RETURN(*request.mutable_dataset(), args.Require("dataset"));
  request.set_annotator(args.Get("annotator"));
  AILAB_ASSIGN_OR_RETURN(annotation::TieRule tie_rule, ParseTieRule(args));
  request.set_tie_rule(tie_rule);

  Client client(args, "");
  annotation::ExportLabelsResponse combined;
  while (true) {
    AILAB_ASSIGN_OR_RETURN(auto page, client.Call(&AnnotationService::Stub::ExportLabels, request));
    for (auto& item : *page.mutable_labels()) *combined.add_labels() = std::move(item);
    *combined.mutable_categories() = page.categories();
    combined.set_total_size(page.total_size());
    combined.set_tied_count(page.tied_count());
    if (page.next_page_token().empty()) break;
    request.set_page_token(page.next_page_token());
  }
  if (args.Has("csv")) {
    std::printf("instance,label,votes,annotators\n");
    for (const auto& label : combined.labels()) {
      std::printf("%s,%s,%d,%d\n", label.instance().c_str(), label.label().c_str(), label.votes(),
                  label.annotators());
    }
    return absl::OkStatus();
  }
  return PrintJson(combined, JsonOptions());
}

absl::Status Count(const Args& args) {
  annotation::CountLabelsRequest request;
  AILAB_ASSIGN_OR_RETURN(*request.mutable_use_case(), args.Require("use_case"));
  AILAB_ASSIGN_OR_RETURN(*request.mutable_dataset(), args.Require("dataset"));
  request.set_annotator(args.Get("annotator"));
  AILAB_ASSIGN_OR_RETURN(annotation::TieRule tie_rule, ParseTieRule(args));
  request.set_tie_rule(tie_rule);
  Client client(args, "");
  AILAB_ASSIGN_OR_RETURN(auto response, client.Call(&AnnotationService::Stub::CountLabels, request));
  return PrintJson(response, JsonOptions());
}

// --- simulate ---------------------------------------------------------------------------

// Truth categories of the synthetic dataset, by file name and by SOP Instance UID.
struct Truth {
  absl::flat_hash_map<std::string, std::string> by_file;
  absl::flat_hash_map<std::string, std::string> by_uid;

  // Returns the category of the file named `file`, else of the instance `uid`.
  std::optional<std::string> Find(const std::string& file, const std::string& uid) const {
    if (auto it = by_file.find(file); it != by_file.end()) return it->second;
    if (auto it = by_uid.find(uid); it != by_uid.end()) return it->second;
    return std::nullopt;
  }
};

// Reads a CSV with a header naming at least `file` and `category` (and optionally
// `sop_instance_uid`), as the synthetic mammogram generator writes truth.csv.
absl::StatusOr<Truth> ReadTruth(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return InvalidArgument("FILE_NOT_READABLE", "truth",
                           absl::StrCat("cannot read truth file \"", path, "\"; check the path"),
                           {{"path", path}});
  }

  // The header names the columns.
  std::string line;
  if (!std::getline(in, line)) {
    return InvalidArgument("EMPTY_TRUTH_FILE", "truth",
                           absl::StrCat("truth file \"", path, "\" is empty"), {{"path", path}});
  }
  std::vector<std::string> header = absl::StrSplit(absl::StripAsciiWhitespace(line), ',');
  int file_column = -1;
  int uid_column = -1;
  int category_column = -1;
  for (int i = 0; i < static_cast<int>(header.size()); ++i) {
    if (header[i] == "file") file_column = i;
    if (header[i] == "sop_instance_uid") uid_column = i;
    if (header[i] == "category") category_column = i;
  }
  if (file_column < 0 || category_column < 0) {
    return InvalidArgument("INVALID_TRUTH_FILE", "truth",
                           absl::StrCat("truth file \"", path,
                                        "\" needs a header with the columns file and category, "
                                        "got \"", line, "\""),
                           {{"path", path}});
  }

  // One row per file.
  Truth truth;
  int line_number = 1;
  while (std::getline(in, line)) {
    ++line_number;
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    std::vector<std::string> cells = absl::StrSplit(absl::StripAsciiWhitespace(line), ',');
    if (static_cast<int>(cells.size()) != static_cast<int>(header.size())) {
      return InvalidArgument("INVALID_TRUTH_FILE", "truth",
                             absl::StrCat("truth file \"", path, "\" line ", line_number, " has ",
                                          cells.size(), " cells; the header has ", header.size()),
                             {{"path", path}, {"line", absl::StrCat(line_number)}});
    }
    truth.by_file[cells[file_column]] = cells[category_column];
    if (uid_column >= 0) truth.by_uid[cells[uid_column]] = cells[category_column];
  }
  return truth;
}

// Instance names of a dataset in upload order, with what identifies their source file.
struct ListedInstance {
  std::string name;
  std::string source_file;
  std::string sop_instance_uid;
};

absl::StatusOr<std::vector<ListedInstance>> ListDatasetInstances(const Args& args,
                                                                 const std::string& dataset) {
  auto stub = ::ailab::ingest::v1::IngestService::NewStub(
      rpc::Connect(ServiceAddress(args, "ingest")));
  ::ailab::ingest::v1::ListInstancesRequest request;
  request.set_parent(dataset);
  request.set_page_size(1000);
  request.set_filter("has_image=true");
  std::vector<ListedInstance> instances;
  while (true) {
    grpc::ClientContext context;
    rpc::SetTimeout(context, kCallTimeout);
    AddPlatformToken(context);
    ::ailab::ingest::v1::ListInstancesResponse response;
    grpc::Status status = stub->ListInstances(&context, request, &response);
    if (!status.ok()) return rpc::FromGrpcStatus(status);
    for (const auto& instance : response.instances()) {
      instances.push_back({instance.name(), instance.source_file(), instance.sop_instance_uid()});
    }
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  return instances;
}

absl::StatusOr<std::vector<std::string>> UseCaseCategories(const Args& args,
                                                           const std::string& use_case) {
  auto stub = ::ailab::catalog::v1::CatalogService::NewStub(
      rpc::Connect(ServiceAddress(args, "catalog")));
  ::ailab::catalog::v1::GetUseCaseRequest request;
  request.set_name(use_case);
  ::ailab::catalog::v1::UseCase response;
  grpc::ClientContext context;
  rpc::SetTimeout(context, kCallTimeout);
  AddPlatformToken(context);
  grpc::Status status = stub->GetUseCase(&context, request, &response);
  if (!status.ok()) return rpc::FromGrpcStatus(status);
  std::vector<std::string> categories;
  if (response.data_elements_size() > 0) {
    for (const auto& value : response.data_elements(0).allowed_values()) {
      categories.push_back(value.value());
    }
  }
  if (categories.size() < 2) {
    return FailedPrecondition("USE_CASE_WITHOUT_CATEGORIES",
                              absl::StrCat("use case \"", use_case,
                                           "\" has fewer than 2 categories to label with"),
                              {{"use_case", use_case}});
  }
  return categories;
}

absl::Status Simulate(const Args& args) {
  AILAB_ASSIGN_OR_RETURN(AnnotatorSet set, RequireSet(args));
  AILAB_ASSIGN_OR_RETURN(std::string truth_path, args.Require("truth"));
  AILAB_ASSIGN_OR_RETURN(double error_rate, args.GetDouble("error_rate", 0.1));
  AILAB_ASSIGN_OR_RETURN(int64_t seed, args.GetInt("seed", 1));
  AILAB_ASSIGN_OR_RETURN(int64_t limit, args.GetInt("limit", 0));
  if (!(error_rate >= 0 && error_rate <= 1)) {
    return InvalidArgument("INVALID_OPTION", "error_rate",
                           absl::StrCat("--error_rate ", error_rate, " must be in [0, 1]"));
  }
  if (limit < 0) {
    return InvalidArgument("INVALID_OPTION", "limit",
                           absl::StrCat("--limit ", limit, " must be 0 (no limit) or more"));
  }

  AILAB_ASSIGN_OR_RETURN(Truth truth, ReadTruth(truth_path));
  AILAB_ASSIGN_OR_RETURN(std::vector<std::string> categories,
                         UseCaseCategories(args, set.use_case));
  AILAB_ASSIGN_OR_RETURN(std::vector<ListedInstance> instances,
                         ListDatasetInstances(args, set.dataset));
  Client client(args, set.user);

  // Where the reader resumes, and what they have done already.
  annotation::GetNextInstanceRequest next;
  next.set_use_case(set.use_case);
  next.set_dataset(set.dataset);
  next.set_annotator(set.user);
  AILAB_ASSIGN_OR_RETURN(auto start, client.Call(&AnnotationService::Stub::GetNextInstance, next));
  absl::flat_hash_set<std::string> done;
  annotation::ListAnnotationsRequest list;
  list.set_use_case(set.use_case);
  list.set_dataset(set.dataset);
  list.set_annotator(set.user);
  list.set_page_size(1000);
  while (true) {
    AILAB_ASSIGN_OR_RETURN(auto page, client.Call(&AnnotationService::Stub::ListAnnotations, list));
    for (const auto& item : page.annotations()) done.insert(item.instance());
    if (page.next_page_token().empty()) break;
    list.set_page_token(page.next_page_token());
  }

  // The same seed and dataset give the same labels.
  std::mt19937_64 random(static_cast<uint64_t>(seed));
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  int64_t saved = 0;
  int64_t wrong = 0;
  int64_t without_truth = 0;
  for (const ListedInstance& instance : instances) {
    if (limit > 0 && saved >= limit) break;
    if (done.contains(instance.name)) continue;

    std::optional<std::string> category = truth.Find(instance.source_file,
                                                     instance.sop_instance_uid);
    if (!category.has_value()) {
      ++without_truth;
      continue;
    }
    int index = -1;
    for (size_t c = 0; c < categories.size(); ++c) {
      if (categories[c] == *category) index = static_cast<int>(c);
    }
    if (index < 0) {
      return FailedPrecondition(
          "TRUTH_NOT_IN_USE_CASE",
          absl::StrCat("truth category \"", *category, "\" of file \"", instance.source_file,
                       "\" is not a category of use case \"", set.use_case, "\""),
          {{"category", *category}, {"use_case", set.use_case}});
    }

    // With probability error_rate the reader picks a neighbouring category instead.
    if (unit(random) < error_rate) {
      bool down = index == static_cast<int>(categories.size()) - 1 ||
                  (index > 0 && unit(random) < 0.5);
      index += down ? -1 : 1;
      ++wrong;
    }
    annotation::SaveAnnotationRequest request;
    request.set_use_case(set.use_case);
    request.set_dataset(set.dataset);
    request.set_annotator(set.user);
    request.set_instance(instance.name);
    request.set_label(categories[index]);
    AILAB_RETURN_IF_ERROR(client.Call(&AnnotationService::Stub::SaveAnnotation, request).status());
    ++saved;
  }

  annotation::FinishSessionRequest finish;
  finish.set_use_case(set.use_case);
  finish.set_dataset(set.dataset);
  finish.set_annotator(set.user);
  AILAB_ASSIGN_OR_RETURN(auto finished, client.Call(&AnnotationService::Stub::FinishSession, finish));
  std::printf(
      "{\"annotator\": \"%s\", \"started_at_position\": %lld, \"saved\": %lld, "
      "\"deliberate_errors\": %lld, \"without_truth\": %lld, \"annotated_count\": %lld, "
      "\"total_instances\": %lld}\n",
      set.user.c_str(), static_cast<long long>(start.position()), static_cast<long long>(saved),
      static_cast<long long>(wrong), static_cast<long long>(without_truth),
      static_cast<long long>(finished.progress().annotated_count()),
      static_cast<long long>(finished.progress().total_instances()));
  return absl::OkStatus();
}

}  // namespace

AILAB_CLI_COMMAND({"annotate", "next", "Show the next instance to annotate and the counts",
                   "--use_case useCases/ID --dataset datasets/ID --user USER [--include_skipped]",
                   &Next});
AILAB_CLI_COMMAND({"annotate", "save", "Save (or change) the label of one instance",
                   "--use_case useCases/ID --dataset datasets/ID --instance NAME --user USER "
                   "[--label CODE] [--box x,y,width,height,label[,score]]... "
                   "[--expected_revision N]",
                   &Save});
AILAB_CLI_COMMAND({"annotate", "skip", "Skip one instance",
                   "--use_case useCases/ID --dataset datasets/ID --instance NAME --user USER",
                   &Skip});
AILAB_CLI_COMMAND({"annotate", "finish", "Finish the annotation session and show its counts",
                   "--use_case useCases/ID --dataset datasets/ID --user USER", &Finish});
AILAB_CLI_COMMAND({"annotate", "list", "List your annotated or skipped instances",
                   "--use_case useCases/ID --dataset datasets/ID --user USER "
                   "[--state ANNOTATED|SKIPPED] [--filter 'label=B'] [--page_size N] "
                   "[--page_token T] [--all]",
                   &List});
AILAB_CLI_COMMAND({"annotate", "progress", "Show your counts against the dataset and quota",
                   "--use_case useCases/ID --dataset datasets/ID --user USER", &Progress});
AILAB_CLI_COMMAND({"annotate", "ranking", "Rank annotators of a contest or a dataset",
                   "--contest contests/ID | --use_case useCases/ID --dataset datasets/ID",
                   &Ranking});
AILAB_CLI_COMMAND({"annotate", "create-contest", "Create a crowdsourcing contest",
                   "--use_case useCases/ID --dataset datasets/ID --start RFC3339 --end RFC3339 "
                   "[--display_name TEXT]",
                   &CreateContest});
AILAB_CLI_COMMAND({"annotate", "agreement",
                   "Compare your labels with the reference reader (whole-set matrix)",
                   "--use_case useCases/ID --dataset datasets/ID --user USER [--table]",
                   &Agreement});
AILAB_CLI_COMMAND({"annotate", "export", "Export training labels (one annotator or majority vote)",
                   "--use_case useCases/ID --dataset datasets/ID [--annotator USER] "
                   "[--tie_rule first_category|exclude] [--csv]",
                   &Export});
AILAB_CLI_COMMAND({"annotate", "count", "Count training labels per category",
                   "--use_case useCases/ID --dataset datasets/ID [--annotator USER] "
                   "[--tie_rule first_category|exclude]",
                   &Count});
AILAB_CLI_COMMAND({"annotate", "set-reference", "Make a user the reference reader of a dataset",
                   "--use_case useCases/ID --dataset datasets/ID --reader USER", &SetReference});
AILAB_CLI_COMMAND({"annotate", "set-quota", "Set the annotations each annotator should reach",
                   "--use_case useCases/ID --dataset datasets/ID --quota N (0 removes it)",
                   &SetQuota});
AILAB_CLI_COMMAND({"annotate", "simulate",
                   "Label a synthetic dataset from its truth.csv with a given error rate",
                   "--use_case useCases/ID --dataset datasets/ID --user USER --truth truth.csv "
                   "[--error_rate 0.1] [--seed 1] [--limit N]",
                   &Simulate});

}  // namespace ailab::cli
