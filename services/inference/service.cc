#include "services/inference/service.h"

#include <cmath>
#include <random>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "ailab/log/log.h"
#include "ailab/pg/pg.h"
#include "ailab/rpc/identity.h"
#include "ailab/rpc/status.h"
#include "ailab/status/status.h"
#include "ailab/status/text.h"
#include "google/protobuf/util/time_util.h"
#include "services/inference/images.h"

namespace ailab::inference {
namespace {

using ::google::protobuf::util::TimeUtil;

// Largest upload accepted, in bytes.
constexpr size_t kMaxUploadBytes = 64 * 1024 * 1024;
constexpr size_t kMaxFileNameLength = 255;
constexpr size_t kMaxCommentLength = 2000;

std::shared_ptr<spdlog::logger> Log() { return log::Logger("inference"); }

// Returns the id of `name` when it is "<collection>/<id>" with a non-empty id free of
// '/', or nullopt.
std::optional<std::string> IdOf(const std::string& name, absl::string_view collection) {
  const std::string prefix = absl::StrCat(collection, "/");
  if (!absl::StartsWith(name, prefix)) return std::nullopt;
  std::string id = name.substr(prefix.size());
  if (id.empty() || absl::StrContains(id, '/')) return std::nullopt;
  return id;
}

absl::Status InvalidName(absl::string_view field, const std::string& value,
                         absl::string_view format) {
  return InvalidArgument("INVALID_NAME", field,
                         absl::StrCat(field, " \"", value, "\" is not a valid name; expected ",
                                      format),
                         {{field, value}});
}

absl::Status CheckModelName(const std::string& model) {
  if (model.empty()) {
    return InvalidArgument("MISSING_FIELD", "model", "model is required, as \"models/{id}\"");
  }
  if (!IdOf(model, "models")) return InvalidName("model", model, "\"models/{id}\"");
  return absl::OkStatus();
}

bool IsInstanceName(const std::string& name) {
  std::vector<std::string> parts = absl::StrSplit(name, '/');
  return parts.size() == 4 && parts[0] == "datasets" && !parts[1].empty() &&
         parts[2] == "instances" && !parts[3].empty();
}

// Site ids: 1 to 63 lower-case letters, digits and '-'.
bool IsSiteId(const std::string& site) {
  if (site.empty() || site.size() > 63) return false;
  for (char c : site) {
    if (!(absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-')) return false;
  }
  return true;
}

std::string NewPredictionId() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  const uint64_t high = engine();
  return absl::StrCat("p", absl::Hex(high, absl::kZeroPad16));
}

}  // namespace

InferenceServiceImpl::InferenceServiceImpl(ServiceDependencies dependencies,
                                           ServiceOptions options)
    : deps_(dependencies), options_(options) {}

absl::StatusOr<ModelInfo> InferenceServiceImpl::LookUpModel(const std::string& name) {
  const absl::Time now = absl::Now();
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    auto it = model_infos_.find(name);
    if (it != model_infos_.end() && now - it->second.fetch_time < options_.directory_cache_ttl) {
      return it->second.value;
    }
  }
  AILAB_ASSIGN_OR_RETURN(ModelInfo model, deps_.models->GetModel(name));
  if (model.torchscript_blob.empty() || model.classes.empty() || model.image_size <= 0) {
    return FailedPrecondition(
        "MODEL_NOT_RUNNABLE",
        absl::StrCat("model \"", name,
                     "\" has no TorchScript file, classes or input size; use a model of a "
                     "training job that SUCCEEDED"),
        {{"model", name}});
  }
  std::lock_guard<std::mutex> lock(cache_mutex_);
  model_infos_[name] = {model, now};
  return model;
}

absl::StatusOr<UseCaseInfo> InferenceServiceImpl::LookUpUseCase(const std::string& name) {
  const absl::Time now = absl::Now();
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    auto it = use_case_infos_.find(name);
    if (it != use_case_infos_.end() && now - it->second.fetch_time < options_.directory_cache_ttl) {
      return it->second.value;
    }
  }
  AILAB_ASSIGN_OR_RETURN(UseCaseInfo use_case, deps_.use_cases->GetUseCase(name));
  std::lock_guard<std::mutex> lock(cache_mutex_);
  use_case_infos_[name] = {use_case, now};
  return use_case;
}

absl::StatusOr<InferenceServiceImpl::Input> InferenceServiceImpl::PrepareInstance(
    const std::string& instance, const ModelInfo& model) {
  AILAB_ASSIGN_OR_RETURN(InstanceInfo info, deps_.instances->GetInstance(instance));
  const bool array_fits =
      !info.array_blob.empty() && (info.array_size == 0 || info.array_size == model.image_size);

  // Prefer the prepared array of the model's size, then the DICOM file, then a
  // prepared array of another size, resized.
  absl::StatusOr<PreparedImage> prepared;
  if (array_fits) {
    AILAB_ASSIGN_OR_RETURN(std::string bytes, deps_.blobs->Get(info.array_blob));
    prepared = PrepareNpy(bytes, instance, model.image_size);
  } else if (!info.dicom_blob.empty()) {
    AILAB_ASSIGN_OR_RETURN(std::string bytes, deps_.blobs->Get(info.dicom_blob));
    prepared = PrepareDicom(bytes, instance, model.image_size);
  } else if (!info.array_blob.empty()) {
    AILAB_ASSIGN_OR_RETURN(std::string bytes, deps_.blobs->Get(info.array_blob));
    prepared = PrepareNpy(bytes, instance, model.image_size);
  } else {
    return FailedPrecondition(
        "INSTANCE_WITHOUT_IMAGE",
        absl::StrCat("instance \"", instance,
                     "\" has neither a prepared array nor a DICOM file; prepare its dataset "
                     "or upload the image"),
        {{"instance", instance}});
  }
  if (!prepared.ok()) return prepared.status();
  Input input;
  input.pixels = std::move(prepared->pixels);
  input.study_date = info.study_date.empty() ? prepared->study_date : info.study_date;
  input.modality = info.modality.empty() ? prepared->modality : info.modality;
  input.body_part = info.body_part.empty() ? prepared->body_part : info.body_part;
  input.source = v1::Prediction::INSTANCE;
  return input;
}

absl::StatusOr<InferenceServiceImpl::Input> InferenceServiceImpl::PrepareInput(
    const v1::PredictRequest& request, const ModelInfo& model) {
  const std::string source = request.file_name().empty() ? "upload" : request.file_name();
  switch (request.image_case()) {
    case v1::PredictRequest::kInstance:
      return PrepareInstance(request.instance(), model);
    case v1::PredictRequest::kDicom: {
      AILAB_ASSIGN_OR_RETURN(PreparedImage image,
                             PrepareDicom(request.dicom(), source, model.image_size));
      // An uploaded file was not de-identified, so its Study Date is the real one and is
      // not recorded. Ingested instances carry their shifted dates.
      return Input{std::move(image.pixels), "", v1::Prediction::UPLOADED_DICOM, image.modality,
                   image.body_part};
    }
    case v1::PredictRequest::kPng: {
      AILAB_ASSIGN_OR_RETURN(PreparedImage image,
                             PreparePng(request.png(), source, model.image_size));
      return Input{std::move(image.pixels), "", v1::Prediction::UPLOADED_PNG};
    }
    case v1::PredictRequest::IMAGE_NOT_SET:
      break;
  }
  return InvalidArgument("MISSING_FIELD", "image",
                         "no image given; set one of instance, dicom or png");
}

absl::StatusOr<bool> InferenceServiceImpl::BlankWhenNegative(const std::string& site,
                                                             const std::string& use_case) {
  if (site.empty()) return false;
  std::optional<std::string> use_case_id = IdOf(use_case, "useCases");
  if (!use_case_id) return false;
  AILAB_ASSIGN_OR_RETURN(std::optional<v1::ReportTemplate> report_template,
                         deps_.store->GetReportTemplate(site, *use_case_id));
  return report_template && report_template->blank_when_negative();
}

absl::StatusOr<v1::Prediction> InferenceServiceImpl::DoPredict(const v1::PredictRequest& request) {
  // Check the request before calling anything.
  AILAB_RETURN_IF_ERROR(CheckModelName(request.model()));
  if (request.image_case() == v1::PredictRequest::kInstance && !IsInstanceName(request.instance())) {
    return InvalidName("instance", request.instance(), "\"datasets/{dataset}/instances/{instance}\"");
  }
  const size_t upload_size = request.image_case() == v1::PredictRequest::kDicom ? request.dicom().size()
                             : request.image_case() == v1::PredictRequest::kPng ? request.png().size()
                                                                                 : 0;
  if ((request.image_case() == v1::PredictRequest::kDicom ||
       request.image_case() == v1::PredictRequest::kPng) &&
      upload_size == 0) {
    return InvalidArgument("EMPTY_UPLOAD", request.has_dicom() ? "dicom" : "png",
                           "the uploaded image is empty; send the file's bytes");
  }
  if (upload_size > kMaxUploadBytes) {
    const std::string size = absl::StrCat(upload_size);
    return InvalidArgument("UPLOAD_TOO_LARGE", request.has_dicom() ? "dicom" : "png",
                           absl::StrCat("the uploaded image has ", upload_size,
                                        " bytes; at most 64 MiB are accepted"),
                           {{"bytes", size}});
  }
  if (request.file_name().size() > kMaxFileNameLength) {
    return InvalidArgument("FILE_NAME_TOO_LONG", "file_name",
                           "file_name is longer than 255 bytes, the limit of most file systems");
  }
  if (!request.site().empty() && !IsSiteId(request.site())) {
    return InvalidArgument("INVALID_SITE", "site",
                           absl::StrCat("site \"", request.site(),
                                        "\" is invalid; use 1 to 63 lower-case letters, digits "
                                        "and '-'"),
                           {{"site", request.site()}});
  }
  if (request.image_case() == v1::PredictRequest::IMAGE_NOT_SET) {
    return InvalidArgument("MISSING_FIELD", "image",
                           "no image given; set one of instance, dicom or png");
  }

  // Model, use case and the categories of the model's outputs.
  AILAB_ASSIGN_OR_RETURN(ModelInfo model, LookUpModel(request.model()));
  AILAB_ASSIGN_OR_RETURN(UseCaseInfo use_case, LookUpUseCase(model.use_case));
  std::vector<const Category*> categories;
  for (const std::string& code : model.classes) {
    const Category* found = nullptr;
    for (const Category& category : use_case.categories) {
      if (category.code == code) found = &category;
    }
    if (found == nullptr) {
      return FailedPrecondition(
          "MODEL_CATEGORY_UNKNOWN",
          absl::StrCat("model \"", model.name, "\" outputs category \"", code,
                       "\", which use case \"", use_case.name,
                       "\" no longer has; retrain the model on the current categories"),
          {{"model", model.name}, {"category", code}, {"use_case", use_case.name}});
    }
    categories.push_back(found);
  }

  // Image, model run and result.
  AILAB_ASSIGN_OR_RETURN(Input input, PrepareInput(request, model));
  // A model predicts only for the images its use case is about. A breast-density model
  // would otherwise give a head CT a density category and a breast report. PNG uploads
  // carry no header to check. A DICOM image without Modality, such as a colour photograph
  // saved as DICOM, cannot be shown to fit, so it is rejected too.
  const bool has_header = input.source != v1::Prediction::UPLOADED_PNG;
  if (!use_case.modality.empty() && has_header) {
    if (input.modality.empty()) {
      return FailedPrecondition(
          "MODALITY_MISSING",
          absl::StrCat("the image has no Modality (0008,0060) in its DICOM header, but model \"",
                       model.name, "\" is for use case \"", use_case.name, "\", which takes ",
                       use_case.modality, " images; send an image whose header names its modality"),
          {{"expected", use_case.modality}, {"model", model.name}});
    }
    if (!ImageFitsUseCase(use_case.modality, input.modality, input.body_part)) {
      return FailedPrecondition(
          "MODALITY_MISMATCH",
          absl::StrCat(
              "the image is of modality ", input.modality,
              input.body_part.empty() ? "" : absl::StrCat(" (body part ", input.body_part, ")"),
              ", but model \"", model.name, "\" is for use case \"", use_case.name,
              "\", which takes ", use_case.modality, " images; choose a model of a use case for ",
              input.modality, " images"),
          {{"modality", input.modality}, {"expected", use_case.modality}, {"model", model.name}});
    }
  }
  AILAB_ASSIGN_OR_RETURN(std::shared_ptr<BatchingPredictor> predictor,
                         deps_.model_cache->Get(model));
  const absl::Time start = absl::Now();
  AILAB_ASSIGN_OR_RETURN(std::vector<float> probabilities,
                         predictor->Predict(std::move(input.pixels)));
  const double inference_millis = absl::ToDoubleMilliseconds(absl::Now() - start);
  if (probabilities.size() != categories.size()) {
    return Internal("MODEL_OUTPUT_MISMATCH",
                    absl::StrCat("model \"", model.name, "\" returned ", probabilities.size(),
                                 " probabilities for ", categories.size(), " classes"),
                    {{"model", model.name}});
  }

  v1::Prediction prediction;
  prediction.set_model(model.name);
  prediction.set_use_case(model.use_case);
  if (request.has_instance()) prediction.set_instance(request.instance());
  prediction.set_source(input.source);
  prediction.set_file_name(request.file_name());
  size_t best = 0;
  for (size_t i = 0; i < categories.size(); ++i) {
    if (!std::isfinite(probabilities[i])) {
      return Internal("MODEL_OUTPUT_NOT_FINITE",
                      absl::StrCat("model \"", model.name,
                                   "\" returned a probability that is not a finite number"),
                      {{"model", model.name}});
    }
    v1::ClassProbability* entry = prediction.add_probabilities();
    entry->set_category(categories[i]->code);
    entry->set_label(categories[i]->label);
    entry->set_probability(probabilities[i]);
    if (probabilities[i] > probabilities[best]) best = i;
  }
  prediction.set_category(categories[best]->code);
  AILAB_ASSIGN_OR_RETURN(bool blank_when_negative,
                         BlankWhenNegative(request.site(), model.use_case));
  const bool negative = use_case.binary && !use_case.categories.empty() &&
                        categories[best]->code == use_case.categories[0].code;
  prediction.set_report_text(blank_when_negative && negative ? "" : categories[best]->report_text);
  prediction.set_study_date(input.study_date);
  prediction.set_site(request.site());
  prediction.set_inference_millis(inference_millis);
  *prediction.mutable_create_time() = TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(absl::Now()));
  prediction.mutable_review()->set_state(v1::Review::UNREVIEWED);

  if (!request.skip_recording()) {
    prediction.set_name(absl::StrCat("predictions/", NewPredictionId()));
    AILAB_RETURN_IF_ERROR(deps_.store->Insert(prediction));
    Log()->debug("prediction recorded name={} model={} category={}", prediction.name(), model.name,
                 prediction.category());
  }
  return prediction;
}

grpc::Status InferenceServiceImpl::Predict(grpc::ServerContext* context,
                                           const v1::PredictRequest* request,
                                           v1::Prediction* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  absl::StatusOr<v1::Prediction> prediction = DoPredict(*request);
  if (!prediction.ok()) {
    Log()->warn("Predict failed model={} reason={} error={}", request->model(),
                GetErrorReason(prediction.status()), std::string(prediction.status().message()));
    return rpc::ToGrpcStatus(prediction.status());
  }
  *response = *std::move(prediction);
  return grpc::Status::OK;
}

grpc::Status InferenceServiceImpl::GetPrediction(grpc::ServerContext* context,
                                                 const v1::GetPredictionRequest* request,
                                                 v1::Prediction* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  if (request->name().empty()) {
    return rpc::ToGrpcStatus(InvalidArgument("MISSING_FIELD", "name",
                                             "name is required, as \"predictions/{id}\""));
  }
  std::optional<std::string> id = IdOf(request->name(), "predictions");
  if (!id) {
    return rpc::ToGrpcStatus(InvalidName("name", request->name(), "\"predictions/{id}\""));
  }
  absl::StatusOr<v1::Prediction> prediction = deps_.store->Get(*id);
  if (!prediction.ok()) return rpc::ToGrpcStatus(prediction.status());
  *response = *std::move(prediction);
  return grpc::Status::OK;
}

absl::StatusOr<v1::ListPredictionsResponse> InferenceServiceImpl::DoListPredictions(
    const v1::ListPredictionsRequest& request) {
  PredictionQuery query;
  if (!request.model().empty()) {
    AILAB_RETURN_IF_ERROR(CheckModelName(request.model()));
    query.model = request.model();
  }
  if (!request.instance().empty()) {
    if (!IsInstanceName(request.instance())) {
      return InvalidName("instance", request.instance(),
                         "\"datasets/{dataset}/instances/{instance}\"");
    }
    query.instance = request.instance();
  }
  if (request.has_start_time()) {
    query.start_time = absl::FromUnixMicros(TimeUtil::TimestampToMicroseconds(request.start_time()));
  }
  if (request.has_end_time()) {
    query.end_time = absl::FromUnixMicros(TimeUtil::TimestampToMicroseconds(request.end_time()));
  }
  if (query.start_time && query.end_time && *query.end_time <= *query.start_time) {
    const std::string start = absl::FormatTime(*query.start_time);
    const std::string end = absl::FormatTime(*query.end_time);
    return InvalidArgument("INVALID_TIME_RANGE", "end_time",
                           absl::StrCat("end_time ", end, " is not after start_time ", start,
                                        "; pass a non-empty range"),
                           {{"start_time", start}, {"end_time", end}});
  }
  if (!v1::Review::State_IsValid(request.review_state())) {
    const std::string state = absl::StrCat(request.review_state());
    return InvalidArgument("INVALID_REVIEW_STATE", "review_state",
                           absl::StrCat("review_state ", request.review_state(), " is unknown"),
                           {{"review_state", state}});
  }
  query.review_state = request.review_state();
  if (request.has_reviewed()) query.reviewed = request.reviewed();
  AILAB_ASSIGN_OR_RETURN(query.limit, pg::ResolvePageSize(request.page_size()));
  AILAB_ASSIGN_OR_RETURN(query.offset, pg::DecodePageToken(request.page_token()));

  AILAB_ASSIGN_OR_RETURN(PredictionPage page, deps_.store->List(query));
  v1::ListPredictionsResponse response;
  for (v1::Prediction& prediction : page.predictions) {
    *response.add_predictions() = std::move(prediction);
  }
  if (page.has_more) {
    response.set_next_page_token(pg::EncodePageToken(query.offset + query.limit));
  }
  return response;
}

grpc::Status InferenceServiceImpl::ListPredictions(grpc::ServerContext* context,
                                                   const v1::ListPredictionsRequest* request,
                                                   v1::ListPredictionsResponse* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  absl::StatusOr<v1::ListPredictionsResponse> result = DoListPredictions(*request);
  if (!result.ok()) return rpc::ToGrpcStatus(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

absl::StatusOr<v1::Prediction> InferenceServiceImpl::DoReviewPrediction(
    const v1::ReviewPredictionRequest& request, bool may_replace_others) {
  if (request.name().empty()) {
    return InvalidArgument("MISSING_FIELD", "name", "name is required, as \"predictions/{id}\"");
  }
  std::optional<std::string> id = IdOf(request.name(), "predictions");
  if (!id) return InvalidName("name", request.name(), "\"predictions/{id}\"");
  if (request.state() != v1::Review::CONFIRMED && request.state() != v1::Review::CORRECTED) {
    const std::string state = v1::Review::State_Name(request.state());
    return InvalidArgument(
        "INVALID_REVIEW_STATE", "state",
        absl::StrCat("review state \"", state.empty() ? absl::StrCat(request.state()) : state,
                     "\" cannot be set; use CONFIRMED or CORRECTED"),
        {{"state", state}});
  }
  if (request.reviewer().empty()) {
    return InvalidArgument("MISSING_FIELD", "reviewer", "reviewer (a user id) is required");
  }
  if (CharacterCount(request.comment()) > kMaxCommentLength) {
    return InvalidArgument("COMMENT_TOO_LONG", "comment",
                           "comment is longer than 2000 characters");
  }
  if (request.state() == v1::Review::CONFIRMED && !request.corrected_category().empty()) {
    return InvalidArgument("UNEXPECTED_CORRECTED_CATEGORY", "corrected_category",
                           absl::StrCat("corrected_category \"", request.corrected_category(),
                                        "\" is set on a CONFIRMED review; use CORRECTED to "
                                        "change the category"),
                           {{"corrected_category", request.corrected_category()}});
  }
  if (request.state() == v1::Review::CORRECTED && request.corrected_category().empty()) {
    return InvalidArgument("MISSING_FIELD", "corrected_category",
                           "corrected_category is required for a CORRECTED review");
  }

  return deps_.store->Update(*id, [&](v1::Prediction& prediction) -> absl::Status {
    // Monitoring counts one review per prediction, so a second reader must not
    // overwrite the first one's without noticing.
    const v1::Review& earlier = prediction.review();
    const bool reviewed =
        earlier.state() == v1::Review::CONFIRMED || earlier.state() == v1::Review::CORRECTED;
    if (reviewed && earlier.reviewer() != request.reviewer() && !may_replace_others) {
      return FailedPrecondition(
          "REVIEWED_BY_ANOTHER",
          absl::StrCat("prediction \"", request.name(), "\" was already reviewed by user \"",
                       earlier.reviewer(),
                       "\"; only that user or an administrator can change the review"),
          {{"name", request.name()}, {"reviewer", earlier.reviewer()}});
    }
    if (request.state() == v1::Review::CORRECTED) {
      bool known = false;
      for (const v1::ClassProbability& entry : prediction.probabilities()) {
        if (entry.category() == request.corrected_category()) known = true;
      }
      if (!known) {
        std::vector<std::string> codes;
        for (const v1::ClassProbability& entry : prediction.probabilities()) {
          codes.push_back(entry.category());
        }
        return InvalidArgument(
            "UNKNOWN_CATEGORY", "corrected_category",
            absl::StrCat("corrected_category \"", request.corrected_category(),
                         "\" is not a category of use case \"", prediction.use_case(),
                         "\"; use one of ", absl::StrJoin(codes, ", ")),
            {{"corrected_category", request.corrected_category()},
             {"use_case", prediction.use_case()}});
      }
      if (request.corrected_category() == prediction.category()) {
        return InvalidArgument(
            "CORRECTION_EQUALS_PREDICTION", "corrected_category",
            absl::StrCat("corrected_category \"", request.corrected_category(),
                         "\" is the predicted category; use CONFIRMED to agree with it"),
            {{"corrected_category", request.corrected_category()}});
      }
    }
    v1::Review* review = prediction.mutable_review();
    review->set_state(request.state());
    review->set_corrected_category(request.corrected_category());
    review->set_reviewer(request.reviewer());
    review->set_comment(request.comment());
    *review->mutable_review_time() =
        TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(absl::Now()));
    return absl::OkStatus();
  });
}

grpc::Status InferenceServiceImpl::ReviewPrediction(grpc::ServerContext* context,
                                                    const v1::ReviewPredictionRequest* request,
                                                    v1::Prediction* response) {
  absl::StatusOr<rpc::CallerInfo> caller = rpc::CallerOf(*context);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  const bool may_replace_others =
      caller->identity ? caller->identity->HasRole(rpc::kRoleAdministrator) : caller->internal;
  absl::StatusOr<v1::Prediction> prediction = DoReviewPrediction(*request, may_replace_others);
  if (!prediction.ok()) {
    Log()->info("prediction review rejected name={} reason={}", request->name(),
                GetErrorReason(prediction.status()));
    return rpc::ToGrpcStatus(prediction.status());
  }
  Log()->info("prediction reviewed name={} state={}", request->name(),
              v1::Review::State_Name(request->state()));
  *response = *std::move(prediction);
  return grpc::Status::OK;
}

namespace {

// Site and use case id of "sites/{site}/reportTemplates/{use case id}".
struct TemplateKey {
  std::string site;
  std::string use_case_id;
};

absl::StatusOr<TemplateKey> ParseTemplateName(const std::string& name) {
  std::vector<std::string> parts = absl::StrSplit(name, '/');
  if (parts.size() != 4 || parts[0] != "sites" || !IsSiteId(parts[1]) ||
      parts[2] != "reportTemplates" || parts[3].empty()) {
    return InvalidArgument(
        "INVALID_NAME", "name",
        absl::StrCat("report template name \"", name,
                     "\" is invalid; expected \"sites/{site}/reportTemplates/{use case id}\", "
                     "for example \"sites/main/reportTemplates/breast-density\""),
        {{"name", name}});
  }
  return TemplateKey{parts[1], parts[3]};
}

}  // namespace

grpc::Status InferenceServiceImpl::UpdateReportTemplate(
    grpc::ServerContext* context, const v1::UpdateReportTemplateRequest* request,
    v1::ReportTemplate* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  absl::StatusOr<v1::ReportTemplate> result = [&]() -> absl::StatusOr<v1::ReportTemplate> {
    AILAB_ASSIGN_OR_RETURN(TemplateKey key, ParseTemplateName(request->report_template().name()));
    // The use case must exist, so that a typing error does not go unnoticed.
    AILAB_RETURN_IF_ERROR(LookUpUseCase(absl::StrCat("useCases/", key.use_case_id)).status());
    return deps_.store->PutReportTemplate(key.site, key.use_case_id,
                                          request->report_template().blank_when_negative());
  }();
  if (!result.ok()) return rpc::ToGrpcStatus(result.status());
  Log()->info("report template updated name={} blank_when_negative={}", result->name(),
              result->blank_when_negative());
  *response = *std::move(result);
  return grpc::Status::OK;
}

grpc::Status InferenceServiceImpl::GetReportTemplate(grpc::ServerContext* context,
                                                     const v1::GetReportTemplateRequest* request,
                                                     v1::ReportTemplate* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  absl::StatusOr<v1::ReportTemplate> result = [&]() -> absl::StatusOr<v1::ReportTemplate> {
    AILAB_ASSIGN_OR_RETURN(TemplateKey key, ParseTemplateName(request->name()));
    AILAB_ASSIGN_OR_RETURN(std::optional<v1::ReportTemplate> stored,
                           deps_.store->GetReportTemplate(key.site, key.use_case_id));
    if (stored) return *stored;
    v1::ReportTemplate defaults;
    defaults.set_name(request->name());
    return defaults;
  }();
  if (!result.ok()) return rpc::ToGrpcStatus(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

}  // namespace ailab::inference
