// AnnotationServiceImpl, part two: reference readers, agreement, and labels for
// training and scoring. Part one, with the gRPC edge, is service.cc.
#include <algorithm>
#include <limits>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ailab/status/status.h"
#include "services/annotation/aggregate.h"
#include "services/annotation/service.h"
#include "services/annotation/service_helpers.h"

namespace ailab::annotation {

using internal::DecodeToken;
using internal::kDefaultExportPageSize;
using internal::kDefaultPageSize;
using internal::kMaxExportPageSize;
using internal::kMaxPageSize;
using internal::Log;
using internal::NextToken;
using internal::RequireClassification;
using internal::ToProto;

// ---------------------------------------------------------------------------------------
// Reference readers and agreement

absl::StatusOr<v1::ReferenceReader> AnnotationServiceImpl::DoSetReferenceReader(
    const v1::SetReferenceReaderRequest& request) {
  AILAB_RETURN_IF_ERROR(CheckUseCaseName("use_case", request.use_case()));
  AILAB_RETURN_IF_ERROR(CheckDatasetName("dataset", request.dataset()));
  AILAB_RETURN_IF_ERROR(CheckUserId("annotator", request.annotator()));
  AILAB_RETURN_IF_ERROR(ResolveSet(request.use_case(), request.dataset()).status());
  AILAB_ASSIGN_OR_RETURN(
      v1::ReferenceReader reader,
      store_->SetReferenceReader(request.use_case(), request.dataset(), request.annotator()));
  Log()->info("reference reader set use_case={} dataset={} annotator={}", request.use_case(),
              request.dataset(), request.annotator());
  return reader;
}

absl::StatusOr<v1::ReferenceReader> AnnotationServiceImpl::DoGetReferenceReader(
    const v1::GetReferenceReaderRequest& request) {
  AILAB_RETURN_IF_ERROR(CheckUseCaseName("use_case", request.use_case()));
  AILAB_RETURN_IF_ERROR(CheckDatasetName("dataset", request.dataset()));
  AILAB_ASSIGN_OR_RETURN(std::optional<v1::ReferenceReader> reader,
                         store_->GetReferenceReader(request.use_case(), request.dataset()));
  if (!reader.has_value()) {
    return NotFound("REFERENCE_READER_NOT_FOUND",
                    absl::StrCat("use case \"", request.use_case(), "\" and dataset \"",
                                 request.dataset(),
                                 "\" have no reference reader; set one with SetReferenceReader"),
                    {{"use_case", request.use_case()}, {"dataset", request.dataset()}});
  }
  return *std::move(reader);
}

absl::StatusOr<v1::Agreement> AnnotationServiceImpl::DoGetAgreement(
    const Caller& caller, const v1::GetAgreementRequest& request) {
  AILAB_RETURN_IF_ERROR(CheckUseCaseName("use_case", request.use_case()));
  AILAB_RETURN_IF_ERROR(CheckDatasetName("dataset", request.dataset()));
  AILAB_RETURN_IF_ERROR(CheckUserId("annotator", request.annotator()));
  AILAB_ASSIGN_OR_RETURN(UseCaseInfo use_case, ResolveSet(request.use_case(), request.dataset()));
  AILAB_RETURN_IF_ERROR(RequireClassification(use_case, "GetAgreement"));
  if (caller.user.has_value() && *caller.user != request.annotator()) {
    return PermissionDenied(
        "CALLER_IS_NOT_ANNOTATOR",
        absl::StrCat("caller \"", *caller.user, "\" may not read the agreement of \"",
                     request.annotator(), "\"; set the annotator to your own user id"),
        {{"caller", *caller.user}, {"annotator", request.annotator()}});
  }
  AILAB_ASSIGN_OR_RETURN(std::string reference,
                         RequireReferenceReader(request.use_case(), request.dataset()));
  if (reference == request.annotator()) {
    return InvalidArgument("ANNOTATOR_IS_REFERENCE_READER", "annotator",
                           absl::StrCat("annotator \"", request.annotator(),
                                        "\" is the reference reader; agreement compares another "
                                        "annotator with them"),
                           {{"annotator", request.annotator()}});
  }

  AILAB_ASSIGN_OR_RETURN(auto reference_labels,
                         store_->Labels({request.use_case(), request.dataset(), reference}));
  AILAB_ASSIGN_OR_RETURN(
      auto annotator_labels,
      store_->Labels({request.use_case(), request.dataset(), request.annotator()}));
  AgreementResult agreement = CompareLabels(reference_labels, annotator_labels, use_case);

  // NOTE: comparing the matrices of two requests that differ by one image still shows
  // that image's reference label; the minimum only stops single-image requests.
  if (agreement.compared_count < options_.min_reference_overlap) {
    return FailedPrecondition(
        "TOO_FEW_COMPARED_INSTANCES",
        absl::StrCat("annotator \"", request.annotator(), "\" shares ", agreement.compared_count,
                     " annotated instances with the reference reader; agreement is shown from ",
                     options_.min_reference_overlap, " on, so annotate more instances"),
        {{"annotator", request.annotator()},
         {"compared_count", absl::StrCat(agreement.compared_count)},
         {"min_reference_overlap", absl::StrCat(options_.min_reference_overlap)}});
  }

  v1::Agreement response;
  response.set_use_case(request.use_case());
  response.set_dataset(request.dataset());
  response.set_annotator(request.annotator());
  *response.mutable_confusion_matrix() = ToProto(agreement.matrix, use_case);
  response.set_compared_count(agreement.compared_count);
  response.set_annotator_count(static_cast<int64_t>(annotator_labels.size()));
  response.set_reference_count(static_cast<int64_t>(reference_labels.size()));
  response.set_accuracy(agreement.accuracy);
  response.set_kappa(agreement.kappa);
  response.set_linear_kappa(agreement.linear_kappa);
  return response;
}

// ---------------------------------------------------------------------------------------
// Labels for training and scoring

absl::StatusOr<AnnotationServiceImpl::TrainingLabels> AnnotationServiceImpl::CollectTrainingLabels(
    const std::string& use_case_name, const std::string& dataset, const std::string& annotator,
    v1::TieRule tie_rule) {
  AILAB_ASSIGN_OR_RETURN(UseCaseInfo use_case, ResolveSet(use_case_name, dataset));
  if (!annotator.empty()) AILAB_RETURN_IF_ERROR(CheckUserId("annotator", annotator));
  if (!v1::TieRule_IsValid(tie_rule)) {
    return InvalidArgument("INVALID_TIE_RULE", "tie_rule",
                           absl::StrCat("tie_rule ", static_cast<int>(tie_rule),
                                        " is not valid; use FIRST_CATEGORY or EXCLUDE"),
                           {{"tie_rule", absl::StrCat(static_cast<int>(tie_rule))}});
  }
  AILAB_ASSIGN_OR_RETURN(std::optional<v1::ReferenceReader> reader,
                         store_->GetReferenceReader(use_case_name, dataset));
  const std::string reference = reader.has_value() ? reader->annotator() : std::string();
  if (!annotator.empty() && annotator == reference) {
    return PermissionDenied(
        "REFERENCE_READER_LABELS_NOT_EXPORTABLE",
        absl::StrCat("annotator \"", annotator, "\" is the reference reader of use case \"",
                     use_case_name, "\" and dataset \"", dataset,
                     "\"; reference labels are never exported; export another annotator or "
                     "leave annotator empty for the majority vote of the others"),
        {{"annotator", annotator}, {"use_case", use_case_name}, {"dataset", dataset}});
  }

  TrainingLabels result;
  if (!annotator.empty()) {
    AILAB_ASSIGN_OR_RETURN(std::vector<v1::Annotation> annotations,
                           store_->Annotated({use_case_name, dataset, annotator}));
    for (v1::Annotation& annotation : annotations) {
      int index = annotation.label().empty() ? -1 : use_case.CategoryIndex(annotation.label());
      // A label the catalog no longer lists cannot be trained on.
      if (index < 0 && (!annotation.label().empty() || IsClassification(use_case.task_kind))) {
        continue;
      }
      v1::InstanceLabel label;
      label.set_instance(annotation.instance());
      label.set_label(annotation.label());
      label.set_category_index(index);
      label.set_votes(1);
      label.set_annotators(1);
      *label.mutable_boxes() = std::move(*annotation.mutable_boxes());
      *label.mutable_masks() = std::move(*annotation.mutable_masks());
      result.labels.push_back(std::move(label));
    }
  } else {
    if (!IsClassification(use_case.task_kind)) {
      return FailedPrecondition(
          "MAJORITY_VOTE_NEEDS_CLASSIFICATION",
          absl::StrCat("use case \"", use_case_name, "\" is ", TaskKindName(use_case.task_kind),
                       "; a majority vote exists only for classification, so name one "
                       "annotator"),
          {{"use_case", use_case_name}});
    }
    AILAB_ASSIGN_OR_RETURN(std::vector<LabelVote> votes,
                           store_->LabelsExcept(use_case_name, dataset, reference));
    VoteOutcome outcome = MajorityVote(votes, use_case, tie_rule);
    result.tied_count = outcome.tied_count;
    for (const VotedLabel& voted : outcome.labels) {
      v1::InstanceLabel label;
      label.set_instance(voted.instance);
      label.set_label(use_case.categories[voted.category_index]);
      label.set_category_index(voted.category_index);
      label.set_votes(voted.votes);
      label.set_annotators(voted.annotators);
      result.labels.push_back(std::move(label));
    }
  }

  // Dataset order; instances no longer listed by ingest go last, by name.
  AILAB_ASSIGN_OR_RETURN(std::shared_ptr<const DatasetInstances> instances,
                         directory_->GetInstances(dataset));
  auto position = [&](const std::string& instance) {
    auto it = instances->index.find(instance);
    return it == instances->index.end() ? std::numeric_limits<int64_t>::max() : it->second;
  };
  std::sort(result.labels.begin(), result.labels.end(),
            [&](const v1::InstanceLabel& a, const v1::InstanceLabel& b) {
              int64_t pa = position(a.instance());
              int64_t pb = position(b.instance());
              if (pa != pb) return pa < pb;
              return a.instance() < b.instance();
            });
  result.use_case = std::move(use_case);
  return result;
}

absl::StatusOr<v1::ExportLabelsResponse> AnnotationServiceImpl::DoExportLabels(
    const v1::ExportLabelsRequest& request) {
  AILAB_RETURN_IF_ERROR(CheckUseCaseName("use_case", request.use_case()));
  AILAB_RETURN_IF_ERROR(CheckDatasetName("dataset", request.dataset()));
  AILAB_ASSIGN_OR_RETURN(int page_size, pg::ResolvePageSize(request.page_size(),
                                                            kDefaultExportPageSize,
                                                            kMaxExportPageSize));
  AILAB_ASSIGN_OR_RETURN(int64_t offset, DecodeToken(request.page_token()));
  AILAB_ASSIGN_OR_RETURN(TrainingLabels collected,
                         CollectTrainingLabels(request.use_case(), request.dataset(),
                                               request.annotator(), request.tie_rule()));

  v1::ExportLabelsResponse response;
  for (const std::string& category : collected.use_case.categories) {
    response.add_categories(category);
  }
  const int64_t total = static_cast<int64_t>(collected.labels.size());
  for (int64_t i = offset; i < total && i < offset + page_size; ++i) {
    *response.add_labels() = std::move(collected.labels[i]);
  }
  response.set_total_size(total);
  response.set_tied_count(collected.tied_count);
  response.set_next_page_token(NextToken(offset, response.labels_size(), total));
  Log()->info("labels exported use_case={} dataset={} annotator={} total={} tied={}",
              request.use_case(), request.dataset(),
              request.annotator().empty() ? "(majority vote)" : request.annotator(), total,
              collected.tied_count);
  return response;
}

absl::StatusOr<v1::CountLabelsResponse> AnnotationServiceImpl::DoCountLabels(
    const v1::CountLabelsRequest& request) {
  AILAB_RETURN_IF_ERROR(CheckUseCaseName("use_case", request.use_case()));
  AILAB_RETURN_IF_ERROR(CheckDatasetName("dataset", request.dataset()));
  AILAB_ASSIGN_OR_RETURN(TrainingLabels collected,
                         CollectTrainingLabels(request.use_case(), request.dataset(),
                                               request.annotator(), request.tie_rule()));

  std::vector<int64_t> counts(collected.use_case.categories.size(), 0);
  int64_t total = 0;
  for (const v1::InstanceLabel& label : collected.labels) {
    if (label.category_index() < 0) continue;
    ++counts[label.category_index()];
    ++total;
  }
  v1::CountLabelsResponse response;
  for (size_t c = 0; c < counts.size(); ++c) {
    v1::CategoryCount* count = response.add_counts();
    count->set_category(collected.use_case.categories[c]);
    count->set_count(counts[c]);
  }
  response.set_total(total);
  response.set_tied_count(collected.tied_count);
  return response;
}

absl::StatusOr<v1::ScoreAgainstReferenceResponse> AnnotationServiceImpl::DoScoreAgainstReference(
    const v1::ScoreAgainstReferenceRequest& request) {
  AILAB_RETURN_IF_ERROR(CheckUseCaseName("use_case", request.use_case()));
  AILAB_RETURN_IF_ERROR(CheckDatasetName("dataset", request.dataset()));
  if (!request.reference_reader().empty()) {
    AILAB_RETURN_IF_ERROR(CheckUserId("reference_reader", request.reference_reader()));
  }
  if (request.predictions().empty()) {
    return InvalidArgument("MISSING_FIELD", "predictions",
                           "predictions is required: one entry per instance with its "
                           "probabilities in category order",
                           {{"field", "predictions"}});
  }
  AILAB_ASSIGN_OR_RETURN(UseCaseInfo use_case, ResolveSet(request.use_case(), request.dataset()));
  AILAB_RETURN_IF_ERROR(RequireClassification(use_case, "ScoreAgainstReference"));
  AILAB_ASSIGN_OR_RETURN(std::string reference,
                         RequireReferenceReader(request.use_case(), request.dataset()));
  if (!request.reference_reader().empty() && request.reference_reader() != reference) {
    return FailedPrecondition(
        "NOT_THE_REFERENCE_READER",
        absl::StrCat("user \"", request.reference_reader(),
                     "\" is not the reference reader of use case \"", request.use_case(),
                     "\" and dataset \"", request.dataset(),
                     "\"; leave reference_reader empty or check the dataset"),
        {{"reference_reader", request.reference_reader()},
         {"use_case", request.use_case()},
         {"dataset", request.dataset()}});
  }

  AILAB_ASSIGN_OR_RETURN(auto labels,
                         store_->Labels({request.use_case(), request.dataset(), reference}));
  absl::flat_hash_map<std::string, int> truth;
  truth.reserve(labels.size());
  for (const auto& [instance, label] : labels) {
    int index = use_case.CategoryIndex(label);
    if (index >= 0) truth.emplace(instance, index);
  }
  AILAB_ASSIGN_OR_RETURN(ScoreResult score, ScorePredictions(truth, request.predictions(),
                                                             use_case, request.dataset()));
  if (score.scored_count < options_.min_reference_overlap) {
    return FailedPrecondition(
        "TOO_FEW_SCORED_INSTANCES",
        absl::StrCat(score.scored_count, " of the predicted instances have reference labels; "
                     "scores are returned from ", options_.min_reference_overlap,
                     " on, so predict more instances of the dataset"),
        {{"scored_count", absl::StrCat(score.scored_count)},
         {"min_reference_overlap", absl::StrCat(options_.min_reference_overlap)}});
  }

  v1::ScoreAgainstReferenceResponse response;
  *response.mutable_confusion_matrix() = ToProto(score.matrix, use_case);
  response.set_kappa(score.kappa);
  response.set_linear_kappa(score.linear_kappa);
  response.set_auc(score.auc);
  response.set_accuracy(score.accuracy);
  response.set_scored_count(score.scored_count);
  response.set_missing_count(score.missing_count);
  response.set_unlabelled_count(score.unlabelled_count);
  Log()->info("predictions scored use_case={} dataset={} scored={} missing={}",
              request.use_case(), request.dataset(), score.scored_count, score.missing_count);
  return response;
}

}  // namespace ailab::annotation
