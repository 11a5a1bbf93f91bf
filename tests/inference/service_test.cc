// Tests of the inference service library against PostgreSQL and a blob store in a
// temporary folder, with fake directories and a fake model (fakes.h).
#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "ailab/blob/blob_store.h"
#include "ailab/imaging/npy.h"
#include "ailab/imaging/png.h"
#include "ailab/pg/pg.h"
#include "ailab/status/status.h"
#include "catch2/catch.hpp"
#include "fakes.h"
#include "fixtures.h"
#include "google/protobuf/util/time_util.h"
#include "services/inference/images.h"
#include "services/inference/model_cache.h"
#include "services/inference/service.h"
#include "services/inference/store.h"

namespace ailab::inference {
namespace {

using ::ailab::inference::testing::BrightnessModel;
using ::google::protobuf::util::TimeUtil;

constexpr int kSize = 16;
constexpr char kDicomFile[] = "dicom/mg/MG_clunie_pixelspacing_ELE.dcm";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(absl::StrCat("cannot read ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string UniformNpy(int size, float value) {
  std::vector<float> values(static_cast<size_t>(size) * size, value);
  auto array = imaging::Array::FromFloat({size, size}, values);
  auto bytes = imaging::EncodeNpy(*array);
  if (!bytes.ok()) throw std::runtime_error(bytes.status().ToString());
  return *bytes;
}

std::string UniformPng(int width, int height, uint8_t value) {
  std::vector<uint8_t> pixels(static_cast<size_t>(width) * height, value);
  auto png = imaging::EncodePng8(pixels, width, height);
  if (!png.ok()) throw std::runtime_error(png.status().ToString());
  return *png;
}

// The service over a scratch database and a temporary blob store.
class Harness {
 public:
  explicit Harness(size_t cache_size = 4) {
    pg::PoolOptions options;
    options.url = database_.url();
    options.size = 4;
    options.schema = "inference";
    auto pool = pg::Pool::Create(options);
    if (!pool.ok()) throw std::runtime_error(pool.status().ToString());
    pool_ = *std::move(pool);
    absl::Status migrated = pool_->Migrate(PredictionStore::Migrations());
    if (!migrated.ok()) throw std::runtime_error(migrated.ToString());
    store_ = std::make_unique<PredictionStore>(*pool_);
    auto blobs = blob::BlobStore::Open(blob_dir_.path());
    if (!blobs.ok()) throw std::runtime_error(blobs.status().ToString());
    blobs_ = std::make_unique<blob::BlobStore>(*std::move(blobs));

    cache_ = std::make_unique<ModelCache>(
        cache_size,
        [this](const ModelInfo& model) -> absl::StatusOr<std::unique_ptr<torch::Predictor>> {
          ++loads_;
          return std::make_unique<BrightnessModel>(model.image_size,
                                                   static_cast<int>(model.classes.size()));
        },
        BatchOptions{});
    SetUpData();
    ServiceDependencies deps;
    deps.models = &models_;
    deps.use_cases = &use_cases_;
    deps.instances = &instances_;
    deps.blobs = blobs_.get();
    deps.store = store_.get();
    deps.model_cache = cache_.get();
    service_ = std::make_unique<InferenceServiceImpl>(deps, ServiceOptions{});
  }

  void SetUpData() {
    UseCaseInfo ptx;
    ptx.name = "useCases/pneumothorax";
    ptx.binary = true;
    ptx.categories = {{"absent", "No pneumothorax", "No pneumothorax is seen."},
                      {"present", "Pneumothorax", "A pneumothorax is present."}};
    use_cases_.Add(ptx);
    UseCaseInfo density;
    density.name = "useCases/breast-density";
    density.categories = {{"A", "Fatty", "The breasts are almost entirely fatty."},
                          {"B", "Scattered", "There are scattered areas of density."},
                          {"C", "Heterogeneous", "The breasts are heterogeneously dense."},
                          {"D", "Extreme", "The breasts are extremely dense."}};
    density.modality = "MG";
    use_cases_.Add(density);

    models_.Add({"models/ptx", "Pneumothorax v1", "useCases/pneumothorax", {"absent", "present"},
                 kSize, "sha256:00"});
    models_.Add({"models/density", "Density v1", "useCases/breast-density", {"A", "B", "C", "D"},
                 kSize, "sha256:00"});
    models_.Add({"models/stale", "Stale", "useCases/pneumothorax", {"absent", "gone"}, kSize,
                 "sha256:00"});
    models_.Add({"models/untrained", "Untrained", "useCases/pneumothorax", {}, 0, ""});

    // Prepared arrays of mammograms: the modality comes from the ingest service's record.
    instances_.Add({"datasets/d/instances/bright", "2024-05-06", Put(UniformNpy(kSize, 0.9f)),
                    kSize, "", "MG"});
    instances_.Add({"datasets/d/instances/dark", "2024-05-07", Put(UniformNpy(kSize, 0.1f)), kSize,
                    "", "MG"});
    instances_.Add({"datasets/d/instances/large", "", Put(UniformNpy(2 * kSize, 0.8f)), 2 * kSize,
                    "", "MG"});
    instances_.Add({"datasets/d/instances/empty", "2024-01-01", "", 0, ""});
  }

  std::string Put(const std::string& bytes) {
    auto id = blobs_->Put(bytes);
    if (!id.ok()) throw std::runtime_error(id.status().ToString());
    return *id;
  }

  absl::StatusOr<v1::Prediction> PredictInstance(const std::string& instance,
                                                 const std::string& model = "models/ptx",
                                                 const std::string& site = "") {
    v1::PredictRequest request;
    request.set_model(model);
    request.set_instance(instance);
    request.set_site(site);
    return service_->DoPredict(request);
  }

  InferenceServiceImpl& service() { return *service_; }
  testing::FakeInstances& instances() { return instances_; }
  int loads() const { return loads_.load(); }

 private:
  ailab::testing::ScratchDatabase database_;
  ailab::testing::TempDir blob_dir_;
  std::unique_ptr<pg::Pool> pool_;
  std::unique_ptr<PredictionStore> store_;
  std::unique_ptr<blob::BlobStore> blobs_;
  testing::FakeModels models_;
  testing::FakeUseCases use_cases_;
  testing::FakeInstances instances_;
  std::atomic<int> loads_{0};
  std::unique_ptr<ModelCache> cache_;
  std::unique_ptr<InferenceServiceImpl> service_;
};

void CheckError(const absl::Status& status, absl::StatusCode code, const std::string& text) {
  INFO("status: " << status.ToString());
  CHECK(status.code() == code);
  CHECK(absl::StrContains(status.message(), text));
}

TEST_CASE("Predict: instance array recorded with study date") {
  Harness harness;
  auto prediction = harness.PredictInstance("datasets/d/instances/bright");
  REQUIRE(prediction.ok());
  CHECK(absl::StartsWith(prediction->name(), "predictions/"));
  CHECK(prediction->model() == "models/ptx");
  CHECK(prediction->use_case() == "useCases/pneumothorax");
  CHECK(prediction->instance() == "datasets/d/instances/bright");
  CHECK(prediction->source() == v1::Prediction::INSTANCE);
  CHECK(prediction->study_date() == "2024-05-06");
  REQUIRE(prediction->probabilities_size() == 2);
  CHECK(prediction->probabilities(0).category() == "absent");
  CHECK(prediction->probabilities(0).label() == "No pneumothorax");
  CHECK(prediction->probabilities(1).probability() == Approx(0.9));
  CHECK(prediction->category() == "present");
  CHECK(prediction->report_text() == "A pneumothorax is present.");
  CHECK(prediction->review().state() == v1::Review::UNREVIEWED);

  grpc::ServerContext context;
  v1::GetPredictionRequest get;
  get.set_name(prediction->name());
  v1::Prediction stored;
  REQUIRE(harness.service().GetPrediction(&context, &get, &stored).ok());
  CHECK(stored.study_date() == "2024-05-06");
  CHECK(stored.category() == "present");
  CHECK(stored.create_time().seconds() == prediction->create_time().seconds());
}

TEST_CASE("Predict: array of another size is resized") {
  Harness harness;
  auto prediction = harness.PredictInstance("datasets/d/instances/large");
  REQUIRE(prediction.ok());
  CHECK(prediction->probabilities(1).probability() == Approx(0.8).margin(0.01));
  CHECK(prediction->study_date().empty());
}

TEST_CASE("Predict: PNG upload fitted into the square") {
  Harness harness;
  v1::PredictRequest request;
  request.set_model("models/ptx");
  // 20 x 10 of 255 becomes 16 x 8 of 1.0 padded to 16 x 16: mean 0.5, ties go to
  // the first category.
  request.set_png(UniformPng(20, 10, 255));
  request.set_file_name("chest.png");
  auto prediction = harness.service().DoPredict(request);
  REQUIRE(prediction.ok());
  CHECK(prediction->source() == v1::Prediction::UPLOADED_PNG);
  CHECK(prediction->file_name() == "chest.png");
  CHECK(prediction->instance().empty());
  CHECK(prediction->study_date().empty());
  CHECK(prediction->probabilities(1).probability() == Approx(0.5).margin(0.02));
  CHECK(prediction->inference_millis() >= 0);
}

TEST_CASE("Predict: DICOM upload prepared like training", "[dicom]") {
  Harness harness;
  const std::string bytes = ReadFile(absl::StrCat(ailab::testing::SharedDataDir(), "/", kDicomFile));
  v1::PredictRequest request;
  request.set_model("models/density");
  request.set_dicom(bytes);
  request.set_file_name("mammogram.dcm");
  auto prediction = harness.service().DoPredict(request);
  REQUIRE(prediction.ok());
  CHECK(prediction->source() == v1::Prediction::UPLOADED_DICOM);
  // The upload's header has Study Date 2009-04-07, which is not de-identified.
  CHECK(prediction->study_date().empty());
  CHECK(prediction->probabilities_size() == 4);
  CHECK_FALSE(prediction->report_text().empty());

  // The same file as a dataset instance without a prepared array.
  InstanceInfo info{"datasets/d/instances/dicom", "", "", 0, harness.Put(bytes)};
  harness.instances().Add(info);
  auto from_instance = harness.PredictInstance("datasets/d/instances/dicom", "models/density");
  REQUIRE(from_instance.ok());
  CHECK(from_instance->study_date() == "2009-04-07");
  CHECK(from_instance->category() == prediction->category());

  request.set_dicom(bytes.substr(0, bytes.size() / 2));
  CHECK(harness.service().DoPredict(request).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("Predict: image of another modality rejected", "[dicom]") {
  Harness harness;
  const std::string ct =
      ReadFile(absl::StrCat(ailab::testing::SharedDataDir(), "/dicom/uncompressed/CT_small.dcm"));
  v1::PredictRequest request;
  request.set_model("models/density");
  request.set_dicom(ct);
  auto refused = harness.service().DoPredict(request);
  CheckError(refused.status(), absl::StatusCode::kFailedPrecondition, "modality CT");
  CHECK(absl::StrContains(refused.status().message(), "takes MG images"));

  // The same CT as a dataset instance, whose header the ingest service recorded.
  InstanceInfo info{"datasets/d/instances/ct", "", "", 0, harness.Put(ct), "CT"};
  harness.instances().Add(info);
  CheckError(harness.PredictInstance("datasets/d/instances/ct", "models/density").status(),
             absl::StatusCode::kFailedPrecondition, "modality CT");

  // A use case without a modality takes any image.
  request.set_model("models/ptx");
  CHECK(harness.service().DoPredict(request).ok());

  // A film mammogram sent as a secondary capture: modality RG, body part BREAST.
  request.set_model("models/density");
  request.set_dicom(
      ReadFile(absl::StrCat(ailab::testing::SharedDataDir(), "/dicom/mg/MG1_JPLY.dcm")));
  CHECK(harness.service().DoPredict(request).ok());

  // A colour photograph saved as DICOM without a Modality attribute.
  request.set_dicom(ReadFile(absl::StrCat(ailab::testing::SharedDataDir(),
                                          "/dicom/compressed/HTJ2KLossless_08_RGB.dcm")));
  CheckError(harness.service().DoPredict(request).status(), absl::StatusCode::kFailedPrecondition,
             "no Modality");
  InstanceInfo photo{"datasets/d/instances/photo", "", "", 0, harness.Put(request.dicom())};
  harness.instances().Add(photo);
  CheckError(harness.PredictInstance("datasets/d/instances/photo", "models/density").status(),
             absl::StatusCode::kFailedPrecondition, "no Modality");
  // The pneumothorax use case names no modality and takes it.
  request.set_model("models/ptx");
  CHECK(harness.service().DoPredict(request).ok());
}

TEST_CASE("ImageFitsUseCase: modalities and body parts") {
  CHECK(ImageFitsUseCase("MG", "MG", ""));
  CHECK(ImageFitsUseCase("MG", "RG", "BREAST"));
  CHECK(ImageFitsUseCase("MG", "DX", "BREAST"));
  CHECK_FALSE(ImageFitsUseCase("MG", "DX", "CHEST"));
  CHECK_FALSE(ImageFitsUseCase("MG", "RG", ""));
  CHECK_FALSE(ImageFitsUseCase("MG", "MR", "BREAST"));
  CHECK_FALSE(ImageFitsUseCase("MG", "XA", ""));
  CHECK(ImageFitsUseCase("DX", "CR", "CHEST"));
  CHECK(ImageFitsUseCase("DX", "RG", ""));
  CHECK_FALSE(ImageFitsUseCase("DX", "MG", "BREAST"));
  CHECK_FALSE(ImageFitsUseCase("CT", "MR", "HEAD"));
}

TEST_CASE("Predict: bad requests rejected") {
  Harness harness;
  auto predict = [&](const std::function<void(v1::PredictRequest&)>& change) {
    v1::PredictRequest request;
    request.set_model("models/ptx");
    request.set_instance("datasets/d/instances/bright");
    change(request);
    return harness.service().DoPredict(request).status();
  };
  CheckError(predict([](auto& r) { r.clear_model(); }), absl::StatusCode::kInvalidArgument, "model");
  CheckError(predict([](auto& r) { r.set_model("ptx"); }), absl::StatusCode::kInvalidArgument,
             "\"ptx\"");
  CheckError(predict([](auto& r) { r.clear_image(); }), absl::StatusCode::kInvalidArgument,
             "instance, dicom or png");
  CheckError(predict([](auto& r) { r.set_instance("datasets/d/bright"); }),
             absl::StatusCode::kInvalidArgument, "\"datasets/d/bright\"");
  CheckError(predict([](auto& r) { r.set_png(""); }), absl::StatusCode::kInvalidArgument, "empty");
  CHECK(predict([](auto& r) { r.set_png("not a png"); }).code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(predict([](auto& r) { r.set_dicom("not a dicom file"); }).code() ==
        absl::StatusCode::kInvalidArgument);
  CheckError(predict([](auto& r) { r.set_site("Main Site"); }),
             absl::StatusCode::kInvalidArgument, "\"Main Site\"");
  CheckError(predict([](auto& r) { r.set_file_name(std::string(300, 'x')); }),
             absl::StatusCode::kInvalidArgument, "255");
  CheckError(predict([](auto& r) { r.set_model("models/none"); }), absl::StatusCode::kNotFound,
             "models/none");
  CheckError(predict([](auto& r) { r.set_instance("datasets/d/instances/none"); }),
             absl::StatusCode::kNotFound, "datasets/d/instances/none");
  CheckError(predict([](auto& r) { r.set_instance("datasets/d/instances/empty"); }),
             absl::StatusCode::kFailedPrecondition, "datasets/d/instances/empty");
  CheckError(predict([](auto& r) { r.set_model("models/stale"); }),
             absl::StatusCode::kFailedPrecondition, "\"gone\"");
  CheckError(predict([](auto& r) { r.set_model("models/untrained"); }),
             absl::StatusCode::kFailedPrecondition, "models/untrained");

  grpc::ServerContext context;
  v1::GetPredictionRequest get;
  v1::Prediction response;
  get.set_name("predictions/none");
  grpc::Status missing = harness.service().GetPrediction(&context, &get, &response);
  CHECK(missing.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(absl::StrContains(missing.error_message(), "predictions/none"));
  get.set_name("prediction/x");
  CHECK(harness.service().GetPrediction(&context, &get, &response).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_CASE("Predict: skip_recording stores nothing") {
  Harness harness;
  v1::PredictRequest request;
  request.set_model("models/ptx");
  request.set_instance("datasets/d/instances/dark");
  request.set_skip_recording(true);
  auto prediction = harness.service().DoPredict(request);
  REQUIRE(prediction.ok());
  CHECK(prediction->name().empty());
  CHECK(prediction->category() == "absent");
  auto listed = harness.service().DoListPredictions(v1::ListPredictionsRequest());
  REQUIRE(listed.ok());
  CHECK(listed->predictions_size() == 0);
}

TEST_CASE("ReviewPrediction: confirm and correct") {
  Harness harness;
  auto prediction = harness.PredictInstance("datasets/d/instances/dark");
  REQUIRE(prediction.ok());
  REQUIRE(prediction->category() == "absent");

  v1::ReviewPredictionRequest review;
  review.set_name(prediction->name());
  review.set_state(v1::Review::CONFIRMED);
  review.set_reviewer("dr-lee");
  auto confirmed = harness.service().DoReviewPrediction(review);
  REQUIRE(confirmed.ok());
  CHECK(confirmed->review().state() == v1::Review::CONFIRMED);
  CHECK(confirmed->review().reviewer() == "dr-lee");
  CHECK(confirmed->review().has_review_time());

  review.set_state(v1::Review::CORRECTED);
  review.set_corrected_category("present");
  review.set_comment("small apical pneumothorax");
  auto corrected = harness.service().DoReviewPrediction(review);
  REQUIRE(corrected.ok());
  CHECK(corrected->review().state() == v1::Review::CORRECTED);
  CHECK(corrected->review().corrected_category() == "present");
  CHECK(corrected->category() == "absent");  // the model's output stays

  grpc::ServerContext context;
  v1::GetPredictionRequest get;
  get.set_name(prediction->name());
  v1::Prediction stored;
  REQUIRE(harness.service().GetPrediction(&context, &get, &stored).ok());
  CHECK(stored.review().corrected_category() == "present");
  CHECK(stored.review().comment() == "small apical pneumothorax");
}

TEST_CASE("ReviewPrediction: another user cannot replace a review") {
  Harness harness;
  auto prediction = harness.PredictInstance("datasets/d/instances/dark");
  REQUIRE(prediction.ok());
  v1::ReviewPredictionRequest review;
  review.set_name(prediction->name());
  review.set_state(v1::Review::CONFIRMED);
  review.set_reviewer("dr-lee");
  REQUIRE(harness.service().DoReviewPrediction(review).ok());

  v1::ReviewPredictionRequest other = review;
  other.set_reviewer("dr-kim");
  other.set_state(v1::Review::CORRECTED);
  other.set_corrected_category("present");
  absl::Status rejected = harness.service().DoReviewPrediction(other).status();
  CheckError(rejected, absl::StatusCode::kFailedPrecondition, "\"dr-lee\"");
  CHECK(GetErrorReason(rejected) == "REVIEWED_BY_ANOTHER");

  // The first review is unchanged, and its author may still change it.
  grpc::ServerContext context;
  v1::GetPredictionRequest get;
  get.set_name(prediction->name());
  v1::Prediction stored;
  REQUIRE(harness.service().GetPrediction(&context, &get, &stored).ok());
  CHECK(stored.review().reviewer() == "dr-lee");
  CHECK(stored.review().state() == v1::Review::CONFIRMED);
  review.set_comment("checked again");
  REQUIRE(harness.service().DoReviewPrediction(review).ok());

  // An administrator may replace it.
  auto replaced = harness.service().DoReviewPrediction(other, /*may_replace_others=*/true);
  REQUIRE(replaced.ok());
  CHECK(replaced->review().reviewer() == "dr-kim");
  CHECK(replaced->review().corrected_category() == "present");
}

TEST_CASE("ReviewPrediction: bad reviews rejected") {
  Harness harness;
  auto prediction = harness.PredictInstance("datasets/d/instances/dark");
  REQUIRE(prediction.ok());
  auto review = [&](const std::function<void(v1::ReviewPredictionRequest&)>& change) {
    v1::ReviewPredictionRequest request;
    request.set_name(prediction->name());
    request.set_state(v1::Review::CORRECTED);
    request.set_corrected_category("present");
    request.set_reviewer("dr-lee");
    change(request);
    return harness.service().DoReviewPrediction(request).status();
  };
  CHECK(review([](auto&) {}).ok());
  CheckError(review([](auto& r) { r.set_corrected_category("maybe"); }),
             absl::StatusCode::kInvalidArgument, "\"maybe\"");
  CheckError(review([](auto& r) { r.set_corrected_category("absent"); }),
             absl::StatusCode::kInvalidArgument, "CONFIRMED");
  CheckError(review([](auto& r) { r.clear_corrected_category(); }),
             absl::StatusCode::kInvalidArgument, "corrected_category");
  CheckError(review([](auto& r) { r.set_state(v1::Review::CONFIRMED); }),
             absl::StatusCode::kInvalidArgument, "\"present\"");
  CheckError(review([](auto& r) { r.set_state(v1::Review::UNREVIEWED); }),
             absl::StatusCode::kInvalidArgument, "UNREVIEWED");
  CheckError(review([](auto& r) { r.clear_reviewer(); }), absl::StatusCode::kInvalidArgument,
             "reviewer");
  CheckError(review([](auto& r) { r.set_comment(std::string(2001, 'x')); }),
             absl::StatusCode::kInvalidArgument, "2000");
  // The limit counts characters: 2000 accented letters are 4000 bytes of UTF-8.
  std::string accented;
  for (int i = 0; i < 2000; ++i) accented += "\xc3\xa9";
  CHECK(review([&](auto& r) { r.set_comment(accented); }).ok());
  CheckError(review([&](auto& r) { r.set_comment(accented + "x"); }),
             absl::StatusCode::kInvalidArgument, "2000");
  CheckError(review([](auto& r) { r.set_name("predictions/none"); }), absl::StatusCode::kNotFound,
             "predictions/none");
  CheckError(review([](auto& r) { r.set_name("none"); }), absl::StatusCode::kInvalidArgument,
             "\"none\"");
}

TEST_CASE("ListPredictions: filters and pages") {
  Harness harness;
  const absl::Time before = absl::Now() - absl::Seconds(1);
  auto first = harness.PredictInstance("datasets/d/instances/dark");
  auto second = harness.PredictInstance("datasets/d/instances/bright");
  auto third = harness.PredictInstance("datasets/d/instances/bright", "models/density");
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  REQUIRE(third.ok());
  v1::ReviewPredictionRequest review;
  review.set_name(first->name());
  review.set_state(v1::Review::CONFIRMED);
  review.set_reviewer("dr-lee");
  REQUIRE(harness.service().DoReviewPrediction(review).ok());

  auto list = [&](const std::function<void(v1::ListPredictionsRequest&)>& change) {
    v1::ListPredictionsRequest request;
    change(request);
    return harness.service().DoListPredictions(request);
  };
  auto all = list([](auto&) {});
  REQUIRE(all.ok());
  CHECK(all->predictions_size() == 3);
  auto reviewed = list([](auto& r) { r.set_reviewed(true); });
  REQUIRE(reviewed.ok());
  REQUIRE(reviewed->predictions_size() == 1);
  CHECK(reviewed->predictions(0).name() == first->name());
  auto unreviewed = list([](auto& r) { r.set_reviewed(false); });
  REQUIRE(unreviewed.ok());
  CHECK(unreviewed->predictions_size() == 2);
  auto confirmed = list([](auto& r) { r.set_review_state(v1::Review::CONFIRMED); });
  REQUIRE(confirmed.ok());
  CHECK(confirmed->predictions_size() == 1);
  auto by_model = list([](auto& r) { r.set_model("models/density"); });
  REQUIRE(by_model.ok());
  CHECK(by_model->predictions_size() == 1);
  auto by_instance = list([](auto& r) { r.set_instance("datasets/d/instances/bright"); });
  REQUIRE(by_instance.ok());
  CHECK(by_instance->predictions_size() == 2);
  auto in_range = list([&](auto& r) {
    *r.mutable_start_time() = TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(before));
  });
  REQUIRE(in_range.ok());
  CHECK(in_range->predictions_size() == 3);
  auto future = list([&](auto& r) {
    *r.mutable_start_time() =
        TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(absl::Now() + absl::Hours(1)));
  });
  REQUIRE(future.ok());
  CHECK(future->predictions_size() == 0);

  auto page = list([](auto& r) { r.set_page_size(2); });
  REQUIRE(page.ok());
  CHECK(page->predictions_size() == 2);
  REQUIRE_FALSE(page->next_page_token().empty());
  const std::string token = page->next_page_token();
  auto rest = list([&](auto& r) {
    r.set_page_size(2);
    r.set_page_token(token);
  });
  REQUIRE(rest.ok());
  CHECK(rest->predictions_size() == 1);
  CHECK(rest->next_page_token().empty());

  CHECK(list([](auto& r) { r.set_page_size(-1); }).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(list([](auto& r) { r.set_page_token("garbage"); }).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CheckError(list([](auto& r) { r.set_model("density"); }).status(),
             absl::StatusCode::kInvalidArgument, "\"density\"");
  CheckError(list([&](auto& r) {
               *r.mutable_start_time() = TimeUtil::MicrosecondsToTimestamp(2000000);
               *r.mutable_end_time() = TimeUtil::MicrosecondsToTimestamp(1000000);
             }).status(),
             absl::StatusCode::kInvalidArgument, "end_time");
  CHECK(list([](auto& r) { r.set_review_state(static_cast<v1::Review::State>(9)); })
            .status()
            .code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("ReportTemplate: blank when negative per site") {
  Harness harness;
  grpc::ServerContext context;
  v1::GetReportTemplateRequest get;
  get.set_name("sites/main/reportTemplates/pneumothorax");
  v1::ReportTemplate defaults;
  REQUIRE(harness.service().GetReportTemplate(&context, &get, &defaults).ok());
  CHECK_FALSE(defaults.blank_when_negative());

  v1::UpdateReportTemplateRequest update;
  update.mutable_report_template()->set_name("sites/main/reportTemplates/pneumothorax");
  update.mutable_report_template()->set_blank_when_negative(true);
  v1::ReportTemplate stored;
  REQUIRE(harness.service().UpdateReportTemplate(&context, &update, &stored).ok());
  CHECK(stored.blank_when_negative());
  CHECK(stored.has_update_time());

  auto negative = harness.PredictInstance("datasets/d/instances/dark", "models/ptx", "main");
  REQUIRE(negative.ok());
  CHECK(negative->category() == "absent");
  CHECK(negative->report_text().empty());
  CHECK(negative->site() == "main");
  auto positive = harness.PredictInstance("datasets/d/instances/bright", "models/ptx", "main");
  REQUIRE(positive.ok());
  CHECK(positive->report_text() == "A pneumothorax is present.");
  auto other_site = harness.PredictInstance("datasets/d/instances/dark", "models/ptx", "clinic-2");
  REQUIRE(other_site.ok());
  CHECK(other_site->report_text() == "No pneumothorax is seen.");

  update.mutable_report_template()->set_name("sites/main/templates/pneumothorax");
  CHECK(harness.service().UpdateReportTemplate(&context, &update, &stored).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  update.mutable_report_template()->set_name("sites/main/reportTemplates/nothing");
  grpc::Status unknown = harness.service().UpdateReportTemplate(&context, &update, &stored);
  CHECK(unknown.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(absl::StrContains(unknown.error_message(), "useCases/nothing"));
  get.set_name("sites//reportTemplates/x");
  CHECK(harness.service().GetReportTemplate(&context, &get, &defaults).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_CASE("Predict: models loaded once and cached") {
  Harness harness(/*cache_size=*/1);
  REQUIRE(harness.PredictInstance("datasets/d/instances/dark").ok());
  REQUIRE(harness.PredictInstance("datasets/d/instances/bright").ok());
  CHECK(harness.loads() == 1);
  REQUIRE(harness.PredictInstance("datasets/d/instances/bright", "models/density").ok());
  REQUIRE(harness.PredictInstance("datasets/d/instances/bright", "models/ptx").ok());
  CHECK(harness.loads() == 3);  // the cache keeps one model, so ptx was loaded again
}

TEST_CASE("ModelCache: concurrent requests share batches") {
  std::atomic<BrightnessModel*> model{nullptr};
  BatchOptions options;
  options.max_batch_size = 8;
  options.max_delay = absl::Milliseconds(50);
  ModelCache cache(
      2,
      [&](const ModelInfo& info) -> absl::StatusOr<std::unique_ptr<torch::Predictor>> {
        auto created = std::make_unique<BrightnessModel>(info.image_size, 2,
                                                         std::chrono::milliseconds(20));
        model = created.get();
        return created;
      },
      options);
  const ModelInfo info{"models/m", "", "useCases/u", {"a", "b"}, 4, "sha256:00"};
  auto predictor = cache.Get(info);
  REQUIRE(predictor.ok());

  constexpr int kThreads = 8;
  std::vector<float> results(kThreads, -1);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const float value = static_cast<float>(t) / kThreads;
      auto output = (*predictor)->Predict(std::vector<float>(16, value));
      if (output.ok()) results[t] = (*output)[1];
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) {
    INFO("request " << t);
    CHECK(results[t] == Approx(static_cast<float>(t) / kThreads));
  }
  CHECK((*predictor)->image_count() == kThreads);
  CHECK((*predictor)->batch_count() < kThreads);

  auto wrong_size = (*predictor)->Predict(std::vector<float>(3, 0.5f));
  CHECK(wrong_size.status().code() == absl::StatusCode::kInternal);
}

TEST_CASE("ModelCache: evicts and retries failed loads") {
  int attempts = 0;
  ModelCache cache(
      2,
      [&](const ModelInfo& info) -> absl::StatusOr<std::unique_ptr<torch::Predictor>> {
        ++attempts;
        if (info.name == "models/flaky" && attempts == 1) {
          return absl::UnavailableError("blob store not mounted yet");
        }
        const int size = info.name == "models/odd" ? 8 : info.image_size;
        return std::make_unique<BrightnessModel>(size, 2);
      },
      BatchOptions{});
  ModelInfo flaky{"models/flaky", "", "useCases/u", {"a", "b"}, 4, "sha256:00"};
  CHECK(cache.Get(flaky).status().code() == absl::StatusCode::kUnavailable);
  CHECK(cache.Get(flaky).ok());  // not cached after the failure
  CHECK(attempts == 2);

  ModelInfo second = flaky;
  second.name = "models/second";
  ModelInfo third = flaky;
  third.name = "models/third";
  REQUIRE(cache.Get(second).ok());
  REQUIRE(cache.Get(third).ok());
  const std::vector<std::string> loaded = cache.LoadedModels();
  REQUIRE(loaded.size() == 2);
  CHECK(loaded[0] == "models/third");
  CHECK(loaded[1] == "models/second");

  ModelInfo odd = flaky;
  odd.name = "models/odd";
  CheckError(cache.Get(odd).status(), absl::StatusCode::kFailedPrecondition, "models/odd");
}

}  // namespace
}  // namespace ailab::inference
