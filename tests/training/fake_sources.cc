#include "fake_sources.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "ailab/blob/blob_store.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"

namespace ailab::training::testing {
namespace {

namespace annotation = ::ailab::annotation::v1;
namespace ingest = ::ailab::ingest::v1;

const std::vector<std::string>& DefaultCategories() {
  static const auto* categories = new std::vector<std::string>{"A", "B", "C", "D"};
  return *categories;
}

}  // namespace

class FakeDataServices::Annotation final : public annotation::AnnotationService::Service {
 public:
  explicit Annotation(FakeDataServices* owner) : owner_(owner) {}

  grpc::Status CountLabels(grpc::ServerContext*, const annotation::CountLabelsRequest* request,
                           annotation::CountLabelsResponse* response) override {
    std::lock_guard<std::mutex> lock(owner_->mutex_);
    if (grpc::Status denied = CheckReader(request->annotator()); !denied.ok()) return denied;
    const std::vector<std::string> categories = Categories(request->use_case());
    std::vector<int64_t> counts(categories.size(), 0);
    for (const FakeInstance& instance : Labelled(*request)) counts[instance.label] += 1;
    for (size_t c = 0; c < categories.size(); ++c) {
      annotation::CategoryCount* count = response->add_counts();
      count->set_category(categories[c]);
      count->set_count(counts[c]);
      response->set_total(response->total() + counts[c]);
    }
    return grpc::Status::OK;
  }

  grpc::Status ExportLabels(grpc::ServerContext*, const annotation::ExportLabelsRequest* request,
                            annotation::ExportLabelsResponse* response) override {
    std::lock_guard<std::mutex> lock(owner_->mutex_);
    owner_->last_export_annotator_ = request->annotator();
    if (grpc::Status denied = CheckReader(request->annotator()); !denied.ok()) return denied;
    const std::vector<std::string> categories = Categories(request->use_case());
    for (const std::string& category : categories) response->add_categories(category);
    for (const FakeInstance& instance : Labelled(*request)) {
      annotation::InstanceLabel* label = response->add_labels();
      label->set_instance(instance.name);
      label->set_label(categories[instance.label]);
      label->set_category_index(instance.label);
      label->set_votes(1);
      label->set_annotators(1);
    }
    response->set_total_size(response->labels_size());
    return grpc::Status::OK;
  }

 private:
  grpc::Status CheckReader(const std::string& annotator) {
    const auto& readers = owner_->reference_readers_;
    if (std::find(readers.begin(), readers.end(), annotator) == readers.end()) {
      return grpc::Status::OK;
    }
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        absl::StrCat("annotator \"", annotator,
                                     "\" is a reference reader; their labels are not exported"));
  }

  std::vector<std::string> Categories(const std::string& use_case) {
    auto it = owner_->categories_.find(use_case);
    return it == owner_->categories_.end() ? DefaultCategories() : it->second;
  }

  template <typename Request>
  std::vector<FakeInstance> Labelled(const Request& request) {
    auto it = owner_->labels_.find({request.use_case(), request.dataset(), request.annotator()});
    if (it == owner_->labels_.end()) return {};
    std::vector<FakeInstance> labelled;
    for (const FakeInstance& instance : it->second) {
      if (instance.label >= 0) labelled.push_back(instance);
    }
    return labelled;
  }

  FakeDataServices* owner_;
};

class FakeDataServices::Ingest final : public ingest::IngestService::Service {
 public:
  explicit Ingest(FakeDataServices* owner) : owner_(owner) {}

  grpc::Status ListInstances(grpc::ServerContext*, const ingest::ListInstancesRequest* request,
                             ingest::ListInstancesResponse* response) override {
    std::lock_guard<std::mutex> lock(owner_->mutex_);
    auto it = owner_->instances_.find(request->parent());
    if (it == owner_->instances_.end()) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND,
                          absl::StrCat("dataset ", request->parent(), " not found"));
    }
    // Pages of at most 50 instances, so the client's paging is exercised.
    int64_t offset = 0;
    if (!request->page_token().empty()) (void)absl::SimpleAtoi(request->page_token(), &offset);
    const int page_size = request->page_size() <= 0 ? 50 : std::min(request->page_size(), 50);
    const std::vector<FakeInstance>& all = it->second;
    for (int64_t i = offset; i < static_cast<int64_t>(all.size()) && i < offset + page_size; ++i) {
      ingest::Instance* instance = response->add_instances();
      instance->set_name(all[i].name);
      instance->set_has_image(true);
      instance->set_split(all[i].split);
      if (!all[i].array_blob.empty()) {
        instance->set_array_blob(all[i].array_blob);
        instance->set_array_ready(true);
        instance->set_array_dtype("<f4");
        for (int64_t dimension : all[i].array_shape) instance->add_array_shape(dimension);
      }
    }
    if (offset + page_size < static_cast<int64_t>(all.size())) {
      response->set_next_page_token(absl::StrCat(offset + page_size));
    }
    response->set_total_size(static_cast<int64_t>(all.size()));
    return grpc::Status::OK;
  }

 private:
  FakeDataServices* owner_;
};

class FakeDataServices::Evaluation final : public evaluation::v1::EvaluationService::Service {
 public:
  explicit Evaluation(FakeDataServices* owner) : owner_(owner) {}

  grpc::Status ListChallenges(grpc::ServerContext*,
                              const evaluation::v1::ListChallengesRequest*,
                              evaluation::v1::ListChallengesResponse* response) override {
    std::lock_guard<std::mutex> lock(owner_->mutex_);
    for (const evaluation::v1::Challenge& challenge : owner_->challenges_) {
      *response->add_challenges() = challenge;
    }
    return grpc::Status::OK;
  }

 private:
  FakeDataServices* owner_;
};

FakeDataServices::FakeDataServices()
    : annotation_(std::make_unique<Annotation>(this)),
      ingest_(std::make_unique<Ingest>(this)),
      evaluation_(std::make_unique<Evaluation>(this)) {
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(annotation_.get());
  builder.RegisterService(ingest_.get());
  builder.RegisterService(evaluation_.get());
  server_ = builder.BuildAndStart();
  address_ = absl::StrCat("127.0.0.1:", port);
}

FakeDataServices::~FakeDataServices() {
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
}

void FakeDataServices::SetCategories(const std::string& use_case,
                                     std::vector<std::string> categories) {
  std::lock_guard<std::mutex> lock(mutex_);
  categories_[use_case] = std::move(categories);
}

void FakeDataServices::SetDataset(const std::string& use_case, const std::string& dataset,
                                  const std::string& annotator,
                                  std::vector<FakeInstance> instances) {
  std::lock_guard<std::mutex> lock(mutex_);
  instances_[dataset] = instances;
  labels_[{use_case, dataset, annotator}] = std::move(instances);
}

void FakeDataServices::AddReferenceReader(const std::string& annotator) {
  std::lock_guard<std::mutex> lock(mutex_);
  reference_readers_.push_back(annotator);
}

void FakeDataServices::AddChallenge(evaluation::v1::Challenge challenge) {
  std::lock_guard<std::mutex> lock(mutex_);
  challenges_.push_back(std::move(challenge));
}

std::string FakeDataServices::last_export_annotator() {
  std::lock_guard<std::mutex> lock(mutex_);
  return last_export_annotator_;
}

std::vector<FakeInstance> FakeDataServices::MakeInstances(
    const std::string& dataset, const std::vector<int>& per_class,
    const std::function<std::string(int)>& array_blob) {
  std::vector<FakeInstance> instances;
  int index = 0;
  for (size_t c = 0; c < per_class.size(); ++c) {
    for (int i = 0; i < per_class[c]; ++i, ++index) {
      FakeInstance instance;
      instance.name = absl::StrCat(dataset, "/instances/i", 1000 + index);
      instance.label = static_cast<int>(c);
      instance.array_blob =
          array_blob ? array_blob(index)
                     : absl::StrCat("sha256:", blob::BlobStore::Sha256Hex(instance.name));
      const int slot = i % 10;
      instance.split = slot < 7 ? ingest::TRAIN : (slot == 7 ? ingest::VALIDATION : ingest::TEST);
      instances.push_back(std::move(instance));
    }
  }
  return instances;
}

}  // namespace ailab::training::testing
