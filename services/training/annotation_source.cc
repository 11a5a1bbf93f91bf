// LabelSource over the annotation service's ExportLabels and CountLabels.
#include "absl/strings/str_cat.h"
#include "ailab/annotation/v1/annotation.grpc.pb.h"
#include "ailab/rpc/client.h"
#include "ailab/rpc/internal_caller.h"
#include "ailab/rpc/status.h"
#include "ailab/status/status.h"
#include "data_sources.h"

namespace ailab::training {
namespace {

namespace annotation = ::ailab::annotation::v1;

constexpr absl::Duration kCallTimeout = absl::Seconds(60);

class AnnotationLabelSource : public LabelSource {
 public:
  explicit AnnotationLabelSource(const std::string& address)
      : address_(address), stub_(annotation::AnnotationService::NewStub(rpc::Connect(address))) {}

  absl::StatusOr<LabelTotals> CountLabels(const std::string& use_case, const std::string& dataset,
                                          const std::string& annotator) override {
    annotation::CountLabelsRequest request;
    request.set_use_case(use_case);
    request.set_dataset(dataset);
    request.set_annotator(annotator);
    request.set_tie_rule(annotation::EXCLUDE);
    annotation::CountLabelsResponse response;
    grpc::ClientContext context;
    rpc::SetTimeout(context, kCallTimeout);
    rpc::AddInternalToken(context);
    AILAB_RETURN_IF_ERROR(Check(stub_->CountLabels(&context, request, &response), "CountLabels"));

    LabelTotals totals;
    for (const annotation::CategoryCount& count : response.counts()) {
      totals.counts.emplace_back(count.category(), count.count());
    }
    totals.total = response.total();
    return totals;
  }

  absl::StatusOr<LabelSet> ExportLabels(const std::string& use_case, const std::string& dataset,
                                        const std::string& annotator) override {
    LabelSet labels;
    std::string page_token;
    do {
      annotation::ExportLabelsRequest request;
      request.set_use_case(use_case);
      request.set_dataset(dataset);
      request.set_annotator(annotator);
      request.set_tie_rule(annotation::EXCLUDE);
      request.set_page_token(page_token);
      annotation::ExportLabelsResponse response;
      grpc::ClientContext context;
      rpc::SetTimeout(context, kCallTimeout);
      rpc::AddInternalToken(context);
      AILAB_RETURN_IF_ERROR(
          Check(stub_->ExportLabels(&context, request, &response), "ExportLabels"));

      if (labels.categories.empty()) {
        labels.categories.assign(response.categories().begin(), response.categories().end());
      }
      for (const annotation::InstanceLabel& label : response.labels()) {
        labels.labels.emplace_back(label.instance(), label.category_index());
      }
      labels.tied_count = response.tied_count();
      page_token = response.next_page_token();
    } while (!page_token.empty());
    return labels;
  }

 private:
  // Converts a failed call, keeping its code so that PERMISSION_DENIED (a reference
  // reader as label source) and NOT_FOUND reach the client unchanged.
  absl::Status Check(const grpc::Status& status, absl::string_view method) {
    if (status.ok()) return absl::OkStatus();
    return Annotate(rpc::FromGrpcStatus(status),
                    absl::StrCat("annotation service ", address_, " ", method));
  }

  std::string address_;
  std::unique_ptr<annotation::AnnotationService::Stub> stub_;
};

}  // namespace

std::unique_ptr<LabelSource> MakeAnnotationLabelSource(const std::string& address) {
  return std::make_unique<AnnotationLabelSource>(address);
}

}  // namespace ailab::training
