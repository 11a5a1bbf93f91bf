// Tests of the annotation service logic against a scratch PostgreSQL database, with
// in-process fakes of the catalog and ingest. The gRPC binary is tested in
// annotation_grpc_test.cc.
#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "ailab/status/status.h"
#include "catch2/catch.hpp"
#include "fakes.h"
#include "fixtures.h"
#include "google/protobuf/util/time_util.h"
#include "services/annotation/service.h"
#include "services/annotation/store.h"

namespace ailab::annotation {
namespace {

using google::protobuf::util::TimeUtil;

constexpr char kDensity[] = "useCases/breast-density";
constexpr char kDetection[] = "useCases/mass-detection";
constexpr char kSegmentation[] = "useCases/lesion-segmentation";
constexpr char kDataset[] = "datasets/train";

const Caller kTrusted{};

Caller As(const std::string& user) { return Caller{user}; }

// A service on a scratch database, with a 5-instance dataset and three use cases.
class Harness {
 public:
  explicit Harness(ServiceOptions options = ServiceOptions{3}, int instances = 5) {
    catalog_.Put({kDensity, TaskKind::kMulticlassClassification, {"A", "B", "C", "D"}});
    catalog_.Put({kDetection, TaskKind::kDetection, {"mass", "calcification"}});
    catalog_.Put({kSegmentation, TaskKind::kSegmentation, {"lesion"}});
    names_ = ingest_.PutNumbered(kDataset, instances);

    pg::PoolOptions pool;
    pool.url = database_.url();
    pool.size = 4;
    store_ = AnnotationStore::Open(pool).value();
    directory_ = std::make_unique<CachingDirectory>(catalog_.UseCases(), ingest_.Instances(),
                                                    absl::ZeroDuration());
    service_ = std::make_unique<AnnotationServiceImpl>(store_.get(), directory_.get(), options);
  }

  AnnotationServiceImpl& service() { return *service_; }
  testing::FakeIngest& ingest() { return ingest_; }
  const std::string& instance(int i) const { return names_[i - 1]; }

  absl::StatusOr<v1::SaveAnnotationResponse> Save(const std::string& annotator, int i,
                                                  const std::string& label,
                                                  const std::string& use_case = kDensity) {
    v1::SaveAnnotationRequest request;
    request.set_use_case(use_case);
    request.set_dataset(kDataset);
    request.set_instance(instance(i));
    request.set_annotator(annotator);
    request.set_label(label);
    return service_->DoSaveAnnotation(As(annotator), request);
  }

  absl::StatusOr<v1::SkipInstanceResponse> Skip(const std::string& annotator, int i) {
    v1::SkipInstanceRequest request;
    request.set_use_case(kDensity);
    request.set_dataset(kDataset);
    request.set_instance(instance(i));
    request.set_annotator(annotator);
    return service_->DoSkipInstance(As(annotator), request);
  }

  absl::StatusOr<v1::GetNextInstanceResponse> Next(const std::string& annotator,
                                                   bool include_skipped = false) {
    v1::GetNextInstanceRequest request;
    request.set_use_case(kDensity);
    request.set_dataset(kDataset);
    request.set_annotator(annotator);
    request.set_include_skipped(include_skipped);
    return service_->DoGetNextInstance(As(annotator), request);
  }

  absl::StatusOr<v1::ListAnnotationsResponse> List(const std::string& annotator,
                                                   const std::string& filter, int page_size = 0,
                                                   const std::string& token = "") {
    v1::ListAnnotationsRequest request;
    request.set_use_case(kDensity);
    request.set_dataset(kDataset);
    request.set_annotator(annotator);
    request.set_filter(filter);
    request.set_page_size(page_size);
    request.set_page_token(token);
    return service_->DoListAnnotations(As(annotator), request);
  }

  absl::Status SetReference(const std::string& annotator) {
    v1::SetReferenceReaderRequest request;
    request.set_use_case(kDensity);
    request.set_dataset(kDataset);
    request.set_annotator(annotator);
    return service_->DoSetReferenceReader(request).status();
  }

 private:
  ailab::testing::ScratchDatabase database_;
  testing::FakeCatalog catalog_;
  testing::FakeIngest ingest_;
  std::vector<std::string> names_;
  std::unique_ptr<AnnotationStore> store_;
  std::unique_ptr<CachingDirectory> directory_;
  std::unique_ptr<AnnotationServiceImpl> service_;
};

TEST_CASE("AnnotationService: save, skip and resume in dataset order", "[postgres]") {
  Harness h;
  auto first = h.Next("alice");
  REQUIRE(first.ok());
  CHECK(first->instance() == h.instance(1));
  CHECK(first->position() == 1);
  CHECK(first->total_instances() == 5);
  CHECK(first->annotated_count() == 0);
  CHECK_FALSE(first->done());

  REQUIRE(h.Save("alice", 1, "B").ok());
  REQUIRE(h.Skip("alice", 2).ok());
  REQUIRE(h.Save("alice", 4, "D").ok());

  auto next = h.Next("alice");
  REQUIRE(next.ok());
  CHECK(next->instance() == h.instance(3));
  CHECK(next->position() == 3);
  CHECK(next->annotated_count() == 2);
  CHECK(next->skipped_count() == 1);
  CHECK(next->remaining_count() == 2);

  auto with_skipped = h.Next("alice", /*include_skipped=*/true);
  REQUIRE(with_skipped.ok());
  CHECK(with_skipped->instance() == h.instance(2));

  // Another annotator starts from the beginning.
  CHECK(h.Next("bob")->instance() == h.instance(1));

  REQUIRE(h.Save("alice", 3, "A").ok());
  REQUIRE(h.Save("alice", 5, "A").ok());
  auto done = h.Next("alice");
  REQUIRE(done.ok());
  CHECK(done->done());
  CHECK(done->instance().empty());
  CHECK(done->position() == 0);
  CHECK(h.Next("alice", true)->instance() == h.instance(2));
}

TEST_CASE("AnnotationService: saving again changes the annotation", "[postgres]") {
  Harness h;
  auto created = h.Save("alice", 1, "A");
  REQUIRE(created.ok());
  CHECK(created->created());
  CHECK(created->annotation().revision() == 1);
  CHECK(created->annotation().state() == v1::Annotation::ANNOTATED);

  auto changed = h.Save("alice", 1, "C");
  REQUIRE(changed.ok());
  CHECK_FALSE(changed->created());
  CHECK(changed->annotation().revision() == 2);
  CHECK(changed->annotation().label() == "C");
  CHECK(changed->annotation().name() == created->annotation().name());

  auto list = h.List("alice", "");
  REQUIRE(list.ok());
  REQUIRE(list->annotations_size() == 1);
  CHECK(list->annotations(0).label() == "C");

  SECTION("a skip becomes an annotation") {
    REQUIRE(h.Skip("alice", 2).ok());
    auto saved = h.Save("alice", 2, "B");
    REQUIRE(saved.ok());
    CHECK(saved->annotation().state() == v1::Annotation::ANNOTATED);
    CHECK(saved->annotation().revision() == 2);
  }
  SECTION("an annotation cannot be skipped") {
    auto skipped = h.Skip("alice", 1);
    CHECK(skipped.status().code() == absl::StatusCode::kFailedPrecondition);
    CHECK(GetErrorReason(skipped.status()) == "ALREADY_ANNOTATED");
    CHECK(absl::StrContains(skipped.status().message(), h.instance(1)));
  }
  SECTION("expected revision") {
    v1::SaveAnnotationRequest request;
    request.set_use_case(kDensity);
    request.set_dataset(kDataset);
    request.set_instance(h.instance(1));
    request.set_annotator("alice");
    request.set_label("D");
    request.set_expected_revision(1);
    auto stale = h.service().DoSaveAnnotation(kTrusted, request);
    CHECK(stale.status().code() == absl::StatusCode::kAborted);
    CHECK(absl::StrContains(stale.status().message(), "revision 2"));

    request.set_expected_revision(2);
    auto fresh = h.service().DoSaveAnnotation(kTrusted, request);
    REQUIRE(fresh.ok());
    CHECK(fresh->annotation().revision() == 3);

    request.set_instance(h.instance(5));
    auto absent = h.service().DoSaveAnnotation(kTrusted, request);
    CHECK(absent.status().code() == absl::StatusCode::kAborted);
    CHECK(h.List("alice", "instance=\"" + h.instance(5) + "\"")->annotations_size() == 0);
  }
}

TEST_CASE("AnnotationService: lists of skipped and annotated", "[postgres]") {
  Harness h;
  REQUIRE(h.Save("alice", 1, "A").ok());
  REQUIRE(h.Skip("alice", 2).ok());
  REQUIRE(h.Save("alice", 3, "B").ok());
  REQUIRE(h.Skip("alice", 4).ok());
  REQUIRE(h.Save("alice", 5, "B").ok());
  REQUIRE(h.Save("bob", 1, "D").ok());

  auto skipped = h.List("alice", "state=SKIPPED");
  REQUIRE(skipped.ok());
  REQUIRE(skipped->annotations_size() == 2);
  CHECK(skipped->annotations(0).instance() == h.instance(2));
  CHECK(skipped->annotations(1).instance() == h.instance(4));
  CHECK(skipped->annotations(0).label().empty());

  auto annotated = h.List("alice", "state=ANNOTATED");
  REQUIRE(annotated.ok());
  CHECK(annotated->total_size() == 3);
  for (const auto& annotation : annotated->annotations()) {
    CHECK(annotation.annotator() == "alice");
    CHECK(annotation.state() == v1::Annotation::ANNOTATED);
  }
  CHECK(h.List("alice", "label=B")->total_size() == 2);

  // Pages of two, with tokens, cover each annotation once.
  std::set<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    auto page = h.List("alice", "", 2, token);
    REQUIRE(page.ok());
    CHECK(page->annotations_size() <= 2);
    for (const auto& annotation : page->annotations()) seen.insert(annotation.name());
    token = page->next_page_token();
    ++pages;
  } while (!token.empty() && pages < 10);
  CHECK(pages == 3);
  CHECK(seen.size() == 5);

  auto bad_token = h.List("alice", "", 2, "not-a-token");
  CHECK(bad_token.status().code() == absl::StatusCode::kInvalidArgument);
  auto negative = h.List("alice", "", -1);
  CHECK(negative.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(negative.status().message(), "-1"));
}

TEST_CASE("AnnotationService: quota and counts", "[postgres]") {
  Harness h;
  v1::SetQuotaRequest quota;
  quota.set_use_case(kDensity);
  quota.set_dataset(kDataset);
  quota.set_quota(3);
  auto set = h.service().DoSetQuota(quota);
  REQUIRE(set.ok());
  CHECK(set->quota() == 3);
  CHECK(set->total_instances() == 5);

  v1::GetAnnotationProgressRequest progress;
  progress.set_use_case(kDensity);
  progress.set_dataset(kDataset);
  progress.set_annotator("alice");
  REQUIRE(h.Save("alice", 1, "A").ok());
  REQUIRE(h.Save("alice", 2, "A").ok());
  REQUIRE(h.Skip("alice", 3).ok());
  auto before = h.service().DoGetAnnotationProgress(As("alice"), progress);
  REQUIRE(before.ok());
  CHECK(before->annotated_count() == 2);
  CHECK(before->skipped_count() == 1);
  CHECK(before->remaining_count() == 2);
  CHECK(before->quota() == 3);
  CHECK_FALSE(before->quota_met());
  CHECK(h.Next("alice")->quota() == 3);

  REQUIRE(h.Save("alice", 3, "B").ok());
  auto after = h.service().DoGetAnnotationProgress(As("alice"), progress);
  REQUIRE(after.ok());
  CHECK(after->annotated_count() == 3);
  CHECK(after->skipped_count() == 0);
  CHECK(after->quota_met());

  quota.set_quota(6);
  auto too_big = h.service().DoSetQuota(quota);
  CHECK(too_big.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(too_big.status().message(), "6"));
  CHECK(absl::StrContains(too_big.status().message(), "5"));
  quota.set_quota(-1);
  CHECK(h.service().DoSetQuota(quota).status().code() == absl::StatusCode::kInvalidArgument);
  quota.set_quota(0);
  REQUIRE(h.service().DoSetQuota(quota).ok());
  CHECK(h.service().DoGetAnnotationProgress(As("alice"), progress)->quota() == 0);
}

TEST_CASE("AnnotationService: finish session returns its counts", "[postgres]") {
  Harness h;
  v1::FinishSessionRequest finish;
  finish.set_use_case(kDensity);
  finish.set_dataset(kDataset);
  finish.set_annotator("alice");
  CHECK(h.service().DoFinishSession(As("alice"), finish).status().code() ==
        absl::StatusCode::kFailedPrecondition);

  REQUIRE(h.Next("alice").ok());
  REQUIRE(h.Save("alice", 1, "A").ok());
  REQUIRE(h.Save("alice", 2, "B").ok());
  REQUIRE(h.Skip("alice", 3).ok());
  auto finished = h.service().DoFinishSession(As("alice"), finish);
  REQUIRE(finished.ok());
  CHECK(finished->session_annotated_count() == 2);
  CHECK(finished->session_skipped_count() == 1);
  CHECK(finished->progress().annotated_count() == 2);
  CHECK(finished->progress().total_instances() == 5);
  CHECK(TimeUtil::TimestampToMicroseconds(finished->end_time()) >=
        TimeUtil::TimestampToMicroseconds(finished->start_time()));

  auto twice = h.service().DoFinishSession(As("alice"), finish);
  CHECK(twice.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(GetErrorReason(twice.status()) == "NO_OPEN_SESSION");

  // A new session counts only its own work.
  REQUIRE(h.Save("alice", 4, "C").ok());
  auto second = h.service().DoFinishSession(As("alice"), finish);
  REQUIRE(second.ok());
  CHECK(second->session_annotated_count() == 1);
  CHECK(second->session_skipped_count() == 0);
  CHECK(second->progress().annotated_count() == 3);
}

TEST_CASE("AnnotationService: contest ranking of many annotators", "[postgres]") {
  Harness h(ServiceOptions{3}, 40);
  // Annotator k annotates (k % 7) + 1 instances, so counts repeat and ties occur.
  constexpr int kAnnotators = 30;
  for (int k = 0; k < kAnnotators; ++k) {
    std::string annotator = absl::StrCat("reader", k);
    for (int i = 1; i <= (k % 7) + 1; ++i) REQUIRE(h.Save(annotator, i, "A").ok());
    REQUIRE(h.Skip(annotator, 30).ok());  // skips do not count
  }

  v1::CreateContestRequest create;
  v1::Contest* contest = create.mutable_contest();
  contest->set_display_name("Density at the annual meeting");
  contest->set_use_case(kDensity);
  contest->set_dataset(kDataset);
  *contest->mutable_start_time() = TimeUtil::SecondsToTimestamp(absl::ToUnixSeconds(absl::Now()) - 3600);
  *contest->mutable_end_time() = TimeUtil::SecondsToTimestamp(absl::ToUnixSeconds(absl::Now()) + 3600);
  auto created = h.service().DoCreateContest(create);
  REQUIRE(created.ok());
  CHECK(absl::StartsWith(created->name(), "contests/"));

  v1::GetContestRequest get;
  get.set_name(created->name());
  auto fetched = h.service().DoGetContest(get);
  REQUIRE(fetched.ok());
  CHECK(fetched->display_name() == "Density at the annual meeting");
  CHECK(fetched->start_time() == contest->start_time());

  // All pages of 8.
  std::vector<v1::AnnotatorRanking> rankings;
  std::string token;
  do {
    v1::ListAnnotatorRankingsRequest request;
    request.set_contest(created->name());
    request.set_page_size(8);
    request.set_page_token(token);
    auto page = h.service().DoListAnnotatorRankings(request);
    REQUIRE(page.ok());
    CHECK(page->total_size() == kAnnotators);
    for (const auto& ranking : page->rankings()) rankings.push_back(ranking);
    token = page->next_page_token();
  } while (!token.empty());
  REQUIRE(rankings.size() == kAnnotators);

  // Counts 7 (k = 6, 13, 20, 27: four annotators) come first, sharing rank 1.
  for (int i = 0; i < 4; ++i) {
    CHECK(rankings[i].annotated_count() == 7);
    CHECK(rankings[i].rank() == 1);
  }
  CHECK(rankings[4].annotated_count() == 6);
  CHECK(rankings[4].rank() == 5);
  for (size_t i = 1; i < rankings.size(); ++i) {
    CHECK(rankings[i].annotated_count() <= rankings[i - 1].annotated_count());
    if (rankings[i].annotated_count() == rankings[i - 1].annotated_count()) {
      CHECK(rankings[i].rank() == rankings[i - 1].rank());
      CHECK(rankings[i].annotator() > rankings[i - 1].annotator());
    } else {
      CHECK(rankings[i].rank() == static_cast<int64_t>(i) + 1);
    }
  }

  // A contest that ended before any annotation ranks no annotator.
  *contest->mutable_start_time() = TimeUtil::SecondsToTimestamp(1000);
  *contest->mutable_end_time() = TimeUtil::SecondsToTimestamp(2000);
  auto past = h.service().DoCreateContest(create);
  REQUIRE(past.ok());
  v1::ListAnnotatorRankingsRequest past_request;
  past_request.set_contest(past->name());
  CHECK(h.service().DoListAnnotatorRankings(past_request)->rankings_size() == 0);

  // Over all time for the use case and dataset.
  v1::ListAnnotatorRankingsRequest all_time;
  all_time.set_use_case(kDensity);
  all_time.set_dataset(kDataset);
  all_time.set_page_size(1000);
  CHECK(h.service().DoListAnnotatorRankings(all_time)->rankings_size() == kAnnotators);

  v1::ListContestsRequest list;
  auto contests = h.service().DoListContests(list);
  REQUIRE(contests.ok());
  REQUIRE(contests->contests_size() == 2);
  CHECK(contests->contests(0).name() == past->name());
}

// Reference labels and an annotator's labels of instances 1-10 with a known matrix.
void LabelKnownSet(Harness& h) {
  const char* reference[] = {"A", "A", "B", "B", "B", "C", "C", "D", "D", "D"};
  const char* alice[] = {"A", "B", "B", "B", "C", "C", "C", "D", "D", "C"};
  for (int i = 0; i < 10; ++i) {
    REQUIRE(h.Save("ref", i + 1, reference[i]).ok());
    REQUIRE(h.Save("alice", i + 1, alice[i]).ok());
  }
}

TEST_CASE("AnnotationService: agreement confusion matrix on a known set", "[postgres]") {
  Harness h(ServiceOptions{10}, 12);
  v1::GetAgreementRequest request;
  request.set_use_case(kDensity);
  request.set_dataset(kDataset);
  request.set_annotator("alice");
  auto none = h.service().DoGetAgreement(As("alice"), request);
  CHECK(none.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(GetErrorReason(none.status()) == "NO_REFERENCE_READER");

  REQUIRE(h.SetReference("ref").ok());
  LabelKnownSet(h);
  REQUIRE(h.Save("alice", 11, "A").ok());  // not labelled by the reference
  REQUIRE(h.Save("ref", 12, "A").ok());    // not labelled by alice

  auto agreement = h.service().DoGetAgreement(As("alice"), request);
  REQUIRE(agreement.ok());
  CHECK(agreement->compared_count() == 10);
  CHECK(agreement->annotator_count() == 11);
  CHECK(agreement->reference_count() == 11);
  const auto& matrix = agreement->confusion_matrix();
  REQUIRE(matrix.categories_size() == 4);
  CHECK(matrix.categories(0) == "A");
  // Rows reference, columns alice.
  const std::vector<int64_t> expected = {1, 1, 0, 0,  //
                                         0, 2, 1, 0,  //
                                         0, 0, 2, 0,  //
                                         0, 0, 1, 2};
  REQUIRE(matrix.counts_size() == 16);
  for (int i = 0; i < 16; ++i) {
    INFO("cell " << i);
    CHECK(matrix.counts(i) == expected[i]);
  }
  CHECK(agreement->accuracy() == Approx(0.7));
  // Rows (2, 3, 2, 3), columns (1, 3, 4, 2): expected agreement 25 / 100.
  CHECK(agreement->kappa() == Approx((0.7 - 0.25) / 0.75));
  CHECK(std::isfinite(agreement->linear_kappa()));

  SECTION("too few compared instances") {
    REQUIRE(h.Save("bob", 1, "A").ok());
    request.set_annotator("bob");
    auto few = h.service().DoGetAgreement(As("bob"), request);
    CHECK(few.status().code() == absl::StatusCode::kFailedPrecondition);
    CHECK(GetErrorReason(few.status()) == "TOO_FEW_COMPARED_INSTANCES");
  }
  SECTION("the reference reader is not compared with itself") {
    request.set_annotator("ref");
    CHECK(h.service().DoGetAgreement(As("ref"), request).status().code() ==
          absl::StatusCode::kInvalidArgument);
  }
  SECTION("another caller") {
    CHECK(h.service().DoGetAgreement(As("bob"), request).status().code() ==
          absl::StatusCode::kPermissionDenied);
  }
}

TEST_CASE("AnnotationService: reference reader replacement", "[postgres]") {
  Harness h;
  REQUIRE(h.SetReference("ref").ok());
  REQUIRE(h.SetReference("ref").ok());
  REQUIRE(h.SetReference("ref2").ok());  // ref has no annotations yet

  REQUIRE(h.Save("ref2", 1, "A").ok());
  absl::Status replaced = h.SetReference("ref3");
  CHECK(replaced.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(replaced.message(), "ref2"));

  v1::GetReferenceReaderRequest get;
  get.set_use_case(kDensity);
  get.set_dataset(kDataset);
  auto reader = h.service().DoGetReferenceReader(get);
  REQUIRE(reader.ok());
  CHECK(reader->annotator() == "ref2");
  CHECK(reader->annotated_count() == 1);
  get.set_dataset("datasets/other");
  CHECK(h.service().DoGetReferenceReader(get).status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("AnnotationService: export and count labels", "[postgres]") {
  Harness h(ServiceOptions{3}, 6);
  REQUIRE(h.SetReference("ref").ok());
  // Instance: ref | u1 u2 u3
  //   1:       D  | A  A  B     -> A (2 of 3)
  //   2:       D  | B  C        -> tie B-C
  //   3:       D  | C           -> C
  //   6:       D  | D  D  A     -> D
  for (int i : {1, 2, 3, 6}) REQUIRE(h.Save("ref", i, "D").ok());
  REQUIRE(h.Save("u1", 1, "A").ok());
  REQUIRE(h.Save("u2", 1, "A").ok());
  REQUIRE(h.Save("u3", 1, "B").ok());
  REQUIRE(h.Save("u1", 2, "B").ok());
  REQUIRE(h.Save("u2", 2, "C").ok());
  REQUIRE(h.Save("u1", 3, "C").ok());
  REQUIRE(h.Save("u3", 6, "D").ok());
  REQUIRE(h.Save("u2", 6, "D").ok());
  REQUIRE(h.Save("u1", 6, "A").ok());
  REQUIRE(h.Skip("u1", 4).ok());

  v1::ExportLabelsRequest request;
  request.set_use_case(kDensity);
  request.set_dataset(kDataset);

  SECTION("majority vote never includes the reference reader") {
    auto exported = h.service().DoExportLabels(request);
    REQUIRE(exported.ok());
    REQUIRE(exported->labels_size() == 4);
    CHECK(exported->categories_size() == 4);
    CHECK(exported->labels(0).instance() == h.instance(1));
    CHECK(exported->labels(0).label() == "A");
    CHECK(exported->labels(0).votes() == 2);
    CHECK(exported->labels(0).annotators() == 3);
    CHECK(exported->labels(1).label() == "B");  // tie goes to the first category
    CHECK(exported->labels(2).label() == "C");
    CHECK(exported->labels(3).instance() == h.instance(6));
    CHECK(exported->labels(3).label() == "D");
    CHECK(exported->labels(3).category_index() == 3);
    for (const auto& label : exported->labels()) CHECK(label.annotators() <= 3);
  }
  SECTION("tie rule EXCLUDE") {
    request.set_tie_rule(v1::EXCLUDE);
    auto exported = h.service().DoExportLabels(request);
    REQUIRE(exported.ok());
    CHECK(exported->labels_size() == 3);
    CHECK(exported->tied_count() == 1);
  }
  SECTION("one annotator") {
    request.set_annotator("u1");
    auto exported = h.service().DoExportLabels(request);
    REQUIRE(exported.ok());
    REQUIRE(exported->labels_size() == 4);  // the skip of instance 4 is not a label
    CHECK(exported->labels(3).label() == "A");
    CHECK(exported->labels(3).votes() == 1);
  }
  SECTION("paging") {
    request.set_page_size(3);
    auto first = h.service().DoExportLabels(request);
    REQUIRE(first.ok());
    CHECK(first->labels_size() == 3);
    CHECK(first->total_size() == 4);
    REQUIRE_FALSE(first->next_page_token().empty());
    request.set_page_token(first->next_page_token());
    auto second = h.service().DoExportLabels(request);
    REQUIRE(second.ok());
    CHECK(second->labels_size() == 1);
    CHECK(second->next_page_token().empty());
  }
  SECTION("the reference reader is rejected") {
    request.set_annotator("ref");
    auto exported = h.service().DoExportLabels(request);
    CHECK(exported.status().code() == absl::StatusCode::kPermissionDenied);
    CHECK(absl::StrContains(exported.status().message(), "ref"));

    v1::CountLabelsRequest count;
    count.set_use_case(kDensity);
    count.set_dataset(kDataset);
    count.set_annotator("ref");
    CHECK(h.service().DoCountLabels(count).status().code() ==
          absl::StatusCode::kPermissionDenied);
  }
  SECTION("counts per category") {
    v1::CountLabelsRequest count;
    count.set_use_case(kDensity);
    count.set_dataset(kDataset);
    auto counts = h.service().DoCountLabels(count);
    REQUIRE(counts.ok());
    REQUIRE(counts->counts_size() == 4);
    CHECK(counts->counts(0).category() == "A");
    CHECK(counts->counts(0).count() == 1);
    CHECK(counts->counts(1).count() == 1);
    CHECK(counts->counts(2).count() == 1);
    CHECK(counts->counts(3).count() == 1);
    CHECK(counts->total() == 4);

    count.set_annotator("u1");
    auto own = h.service().DoCountLabels(count);
    REQUIRE(own.ok());
    CHECK(own->counts(0).count() == 2);
    CHECK(own->counts(1).count() == 1);
    CHECK(own->counts(2).count() == 1);
    CHECK(own->total() == 4);
  }
}

TEST_CASE("AnnotationService: score predictions against the reference", "[postgres]") {
  Harness h(ServiceOptions{4}, 8);
  v1::ScoreAgainstReferenceRequest request;
  request.set_use_case(kDensity);
  request.set_dataset(kDataset);
  auto add = [&](int i, std::vector<double> probabilities) {
    v1::InstancePrediction* prediction = request.add_predictions();
    prediction->set_instance(h.instance(i));
    for (double p : probabilities) prediction->add_probabilities(p);
  };
  add(1, {0.7, 0.1, 0.1, 0.1});
  add(2, {0.1, 0.7, 0.1, 0.1});
  add(3, {0.1, 0.1, 0.7, 0.1});
  add(4, {0.1, 0.1, 0.1, 0.7});
  add(5, {0.1, 0.6, 0.2, 0.1});
  add(8, {0.1, 0.6, 0.2, 0.1});  // not labelled by the reference

  CHECK(h.service().DoScoreAgainstReference(request).status().code() ==
        absl::StatusCode::kFailedPrecondition);

  REQUIRE(h.SetReference("ref").ok());
  const char* reference[] = {"A", "B", "C", "D", "C", "A"};
  for (int i = 0; i < 6; ++i) REQUIRE(h.Save("ref", i + 1, reference[i]).ok());

  auto score = h.service().DoScoreAgainstReference(request);
  REQUIRE(score.ok());
  CHECK(score->scored_count() == 5);
  CHECK(score->missing_count() == 1);
  CHECK(score->unlabelled_count() == 1);
  CHECK(score->accuracy() == Approx(0.8));
  CHECK(score->confusion_matrix().counts(2 * 4 + 1) == 1);  // reference C, predicted B
  CHECK(std::isfinite(score->auc()));
  CHECK(score->kappa() < 1.0);

  request.set_reference_reader("someone-else");
  auto wrong_reader = h.service().DoScoreAgainstReference(request);
  CHECK(wrong_reader.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(wrong_reader.status().message(), "someone-else"));
  request.set_reference_reader("ref");
  CHECK(h.service().DoScoreAgainstReference(request).ok());

  // Fewer scored instances than the minimum.
  v1::ScoreAgainstReferenceRequest few = request;
  few.mutable_predictions()->DeleteSubrange(2, 4);
  auto too_few = h.service().DoScoreAgainstReference(few);
  CHECK(too_few.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(GetErrorReason(too_few.status()) == "TOO_FEW_SCORED_INSTANCES");
}

// Returns pool options for `database` with one connection, so one writer thread
// writes the saves and those that arrive together are written as batches.
pg::PoolOptions OneConnection(const ailab::testing::ScratchDatabase& database) {
  pg::PoolOptions pool;
  pool.url = database.url();
  pool.size = 1;
  return pool;
}

TEST_CASE("AnnotationStore: concurrent saves share statements", "[postgres]") {
  ailab::testing::ScratchDatabase database;
  std::unique_ptr<AnnotationStore> store = AnnotationStore::Open(OneConnection(database)).value();

  constexpr int kOwnKeys = 12;
  constexpr int kSharedWriters = 12;
  constexpr int kSavesEach = 5;
  // Quotes, backslashes, commas and braces must survive the array encoding.
  const std::string odd_label = "B \"x,y\" {z} \\ end";
  std::vector<std::vector<absl::StatusOr<AnnotationStore::SaveResult>>> results(kOwnKeys +
                                                                                kSharedWriters);
  std::vector<std::thread> threads;
  for (int t = 0; t < kOwnKeys + kSharedWriters; ++t) {
    threads.emplace_back([&, t] {
      const bool shared = t >= kOwnKeys;
      AnnotationKey key{kDensity, kDataset, shared ? "shared" : absl::StrCat("reader-", t),
                        absl::StrCat(kDataset, "/instances/i\"", shared ? 0 : t)};
      google::protobuf::RepeatedPtrField<v1::Box> boxes;
      google::protobuf::RepeatedPtrField<v1::Mask> masks;
      for (int i = 0; i < kSavesEach; ++i) {
        results[t].push_back(store->Save(key, shared ? odd_label : "A", boxes, masks, 0));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  int created = 0;
  int64_t shared_revision = 0;
  for (int t = 0; t < kOwnKeys + kSharedWriters; ++t) {
    for (int i = 0; i < kSavesEach; ++i) {
      const auto& result = results[t][i];
      INFO("thread " << t << " save " << i << ": " << result.status().message());
      REQUIRE(result.ok());
      created += result->created ? 1 : 0;
      if (t < kOwnKeys) {
        CHECK(result->annotation.revision() == i + 1);
        CHECK(result->annotation.annotator() == absl::StrCat("reader-", t));
        CHECK(result->annotation.label() == "A");
      } else {
        CHECK(result->annotation.annotator() == "shared");
        CHECK(result->annotation.label() == odd_label);
        shared_revision = std::max(shared_revision, result->annotation.revision());
      }
    }
  }
  CHECK(created == kOwnKeys + 1);
  CHECK(shared_revision == kSharedWriters * kSavesEach);

  AnnotatorSet set{kDensity, kDataset, "shared"};
  absl::StatusOr<AnnotationStore::ListResult> listed = store->List(set, AnnotationFilter{}, 0, 10);
  REQUIRE(listed.ok());
  REQUIRE(listed->annotations.size() == 1);
  CHECK(listed->annotations[0].label() == odd_label);
  CHECK(listed->annotations[0].instance() == absl::StrCat(kDataset, "/instances/i\"0"));
}

TEST_CASE("AnnotationStore: stopping writes queued saves", "[postgres]") {
  ailab::testing::ScratchDatabase database;
  std::unique_ptr<AnnotationStore> store = AnnotationStore::Open(OneConnection(database)).value();

  // Queued faster than one writer writes them, so most are still queued when the
  // store is destroyed. Each must still get its result.
  constexpr int kSaves = 40;
  std::mutex mutex;
  std::vector<absl::Status> results;
  google::protobuf::RepeatedPtrField<v1::Box> boxes;
  google::protobuf::RepeatedPtrField<v1::Mask> masks;
  for (int i = 0; i < kSaves; ++i) {
    AnnotationKey key{kDensity, kDataset, "reader", absl::StrCat(kDataset, "/instances/", i)};
    store->SaveAsync(key, "A", boxes, masks, 0,
                     [&](absl::StatusOr<AnnotationStore::SaveResult> saved) {
                       std::lock_guard<std::mutex> lock(mutex);
                       results.push_back(saved.status());
                     });
  }
  store.reset();

  REQUIRE(results.size() == kSaves);
  for (const absl::Status& status : results) CHECK(status.ok());
  store = AnnotationStore::Open(OneConnection(database)).value();
  AnnotatorSet set{kDensity, kDataset, "reader"};
  absl::StatusOr<AnnotationStore::ListResult> listed = store->List(set, AnnotationFilter{}, 0, 100);
  REQUIRE(listed.ok());
  CHECK(listed->annotations.size() == kSaves);
}

TEST_CASE("AnnotationService: boxes and masks stored and returned", "[postgres]") {
  Harness h;
  v1::SaveAnnotationRequest boxes;
  boxes.set_use_case(kDetection);
  boxes.set_dataset(kDataset);
  boxes.set_instance(h.instance(1));
  boxes.set_annotator("alice");
  v1::Box* box = boxes.add_boxes();
  box->set_x(120.5);
  box->set_y(64);
  box->set_width(33.25);
  box->set_height(40);
  box->set_label("mass");
  v1::Box* scored = boxes.add_boxes();
  scored->set_x(0);
  scored->set_y(0);
  scored->set_width(5);
  scored->set_height(5);
  scored->set_label("calcification");
  scored->set_score(0.25);
  auto saved = h.service().DoSaveAnnotation(As("alice"), boxes);
  REQUIRE(saved.ok());

  v1::SaveAnnotationRequest masks;
  masks.set_use_case(kSegmentation);
  masks.set_dataset(kDataset);
  masks.set_instance(h.instance(1));
  masks.set_annotator("alice");
  v1::Mask* mask = masks.add_masks();
  mask->set_label("lesion");
  mask->set_width(3);
  mask->set_height(2);
  for (uint32_t count : {0u, 2u, 3u, 1u}) mask->add_counts(count);
  auto saved_mask = h.service().DoSaveAnnotation(As("alice"), masks);
  REQUIRE(saved_mask.ok());

  v1::GetAnnotationRequest get;
  get.set_name(saved->annotation().name());
  get.set_annotator("alice");
  auto read = h.service().DoGetAnnotation(As("alice"), get);
  REQUIRE(read.ok());
  REQUIRE(read->boxes_size() == 2);
  CHECK(read->boxes(0).x() == 120.5);
  CHECK(read->boxes(0).width() == 33.25);
  CHECK(read->boxes(0).label() == "mass");
  CHECK_FALSE(read->boxes(0).has_score());
  CHECK(read->boxes(1).has_score());
  CHECK(read->boxes(1).score() == 0.25);
  CHECK(read->masks_size() == 0);

  get.set_name(saved_mask->annotation().name());
  auto read_mask = h.service().DoGetAnnotation(As("alice"), get);
  REQUIRE(read_mask.ok());
  REQUIRE(read_mask->masks_size() == 1);
  CHECK(read_mask->masks(0).width() == 3);
  CHECK(read_mask->masks(0).height() == 2);
  REQUIRE(read_mask->masks(0).counts_size() == 4);
  CHECK(read_mask->masks(0).counts(0) == 0);
  CHECK(read_mask->masks(0).counts(1) == 2);

  // Saving boxes again replaces them.
  boxes.mutable_boxes()->RemoveLast();
  auto replaced = h.service().DoSaveAnnotation(As("alice"), boxes);
  REQUIRE(replaced.ok());
  CHECK(replaced->annotation().boxes_size() == 1);
  CHECK(replaced->annotation().revision() == 2);

  // One annotator's export carries the shapes.
  v1::ExportLabelsRequest export_request;
  export_request.set_use_case(kDetection);
  export_request.set_dataset(kDataset);
  export_request.set_annotator("alice");
  auto exported = h.service().DoExportLabels(export_request);
  REQUIRE(exported.ok());
  REQUIRE(exported->labels_size() == 1);
  CHECK(exported->labels(0).boxes_size() == 1);
  CHECK(exported->labels(0).category_index() == -1);
  export_request.clear_annotator();
  CHECK(h.service().DoExportLabels(export_request).status().code() ==
        absl::StatusCode::kFailedPrecondition);

  // Boxes on a classification use case are rejected.
  boxes.set_use_case(kDensity);
  boxes.set_label("A");
  auto rejected = h.service().DoSaveAnnotation(As("alice"), boxes);
  CHECK(rejected.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(GetErrorReason(rejected.status()) == "BOXES_NOT_ALLOWED");
}

TEST_CASE("AnnotationService: caller identity rules", "[postgres]") {
  Harness h;
  REQUIRE(h.SetReference("ref").ok());

  // A caller may only act for themselves.
  v1::SaveAnnotationRequest request;
  request.set_use_case(kDensity);
  request.set_dataset(kDataset);
  request.set_instance(h.instance(1));
  request.set_annotator("bob");
  request.set_label("A");
  auto mismatch = h.service().DoSaveAnnotation(As("alice"), request);
  CHECK(mismatch.status().code() == absl::StatusCode::kPermissionDenied);
  CHECK(GetErrorReason(mismatch.status()) == "CALLER_IS_NOT_ANNOTATOR");
  CHECK(h.service().DoSaveAnnotation(kTrusted, request).ok());

  // The reference reader's annotations need the reader's own identity, even for
  // trusted callers.
  request.set_annotator("ref");
  auto anonymous = h.service().DoSaveAnnotation(kTrusted, request);
  CHECK(anonymous.status().code() == absl::StatusCode::kPermissionDenied);
  CHECK(GetErrorReason(anonymous.status()) == "REFERENCE_READER_PROTECTED");
  auto own = h.service().DoSaveAnnotation(As("ref"), request);
  REQUIRE(own.ok());

  v1::ListAnnotationsRequest list;
  list.set_use_case(kDensity);
  list.set_dataset(kDataset);
  list.set_annotator("ref");
  CHECK(h.service().DoListAnnotations(kTrusted, list).status().code() ==
        absl::StatusCode::kPermissionDenied);
  CHECK(h.service().DoListAnnotations(As("alice"), list).status().code() ==
        absl::StatusCode::kPermissionDenied);
  CHECK(h.service().DoListAnnotations(As("ref"), list)->annotations_size() == 1);

  v1::GetAnnotationRequest get;
  get.set_name(own->annotation().name());
  get.set_annotator("alice");
  auto other = h.service().DoGetAnnotation(As("alice"), get);
  CHECK(other.status().code() == absl::StatusCode::kPermissionDenied);
  CHECK_FALSE(absl::StrContains(other.status().message(), "ref"));
  get.set_annotator("ref");
  CHECK(h.service().DoGetAnnotation(kTrusted, get).status().code() ==
        absl::StatusCode::kPermissionDenied);
  CHECK(h.service().DoGetAnnotation(As("ref"), get).ok());
}

TEST_CASE("AnnotationService: unknown names are NOT_FOUND", "[postgres]") {
  Harness h;
  v1::SaveAnnotationRequest save;
  save.set_use_case("useCases/unknown");
  save.set_dataset(kDataset);
  save.set_instance(h.instance(1));
  save.set_annotator("alice");
  save.set_label("A");
  auto unknown_use_case = h.service().DoSaveAnnotation(kTrusted, save);
  CHECK(unknown_use_case.status().code() == absl::StatusCode::kNotFound);
  CHECK(absl::StrContains(unknown_use_case.status().message(), "useCases/unknown"));

  save.set_use_case(kDensity);
  save.set_dataset("datasets/unknown");
  save.set_instance("datasets/unknown/instances/1");
  CHECK(h.service().DoSaveAnnotation(kTrusted, save).status().code() ==
        absl::StatusCode::kNotFound);

  save.set_dataset(kDataset);
  save.set_instance(absl::StrCat(kDataset, "/instances/999"));
  auto unknown_instance = h.service().DoSaveAnnotation(kTrusted, save);
  CHECK(unknown_instance.status().code() == absl::StatusCode::kNotFound);
  CHECK(absl::StrContains(unknown_instance.status().message(), "instances/999"));

  // An instance that ingest lists after the first lookup is found.
  std::vector<std::string> names;
  for (int i = 1; i <= 5; ++i) names.push_back(h.instance(i));
  names.push_back(absl::StrCat(kDataset, "/instances/999"));
  h.ingest().Put(kDataset, names);
  CHECK(h.service().DoSaveAnnotation(kTrusted, save).ok());

  v1::GetAnnotationRequest get;
  get.set_name("annotations/123456");
  get.set_annotator("alice");
  CHECK(h.service().DoGetAnnotation(kTrusted, get).status().code() ==
        absl::StatusCode::kNotFound);
  v1::GetContestRequest contest;
  contest.set_name("contests/98765");
  CHECK(h.service().DoGetContest(contest).status().code() == absl::StatusCode::kNotFound);
}


// One bad request, the code it must get, and a value the message must name.
struct BadRequestCase {
  std::string what;
  std::function<absl::Status()> call;
  absl::StatusCode code;
  std::string named;
};

TEST_CASE("AnnotationService: every RPC rejects bad input", "[postgres]") {
  Harness h;
  REQUIRE(h.Save("alice", 1, "A").ok());
  AnnotationServiceImpl& service = h.service();

  auto save = [&](std::function<void(v1::SaveAnnotationRequest&)> edit) {
    v1::SaveAnnotationRequest request;
    request.set_use_case(kDensity);
    request.set_dataset(kDataset);
    request.set_instance(h.instance(2));
    request.set_annotator("alice");
    request.set_label("B");
    edit(request);
    return service.DoSaveAnnotation(kTrusted, request).status();
  };
  auto list = [&](std::function<void(v1::ListAnnotationsRequest&)> edit) {
    v1::ListAnnotationsRequest request;
    request.set_use_case(kDensity);
    request.set_dataset(kDataset);
    request.set_annotator("alice");
    edit(request);
    return service.DoListAnnotations(kTrusted, request).status();
  };
  auto contest = [&](std::function<void(v1::Contest&)> edit) {
    v1::CreateContestRequest request;
    v1::Contest* c = request.mutable_contest();
    c->set_use_case(kDensity);
    c->set_dataset(kDataset);
    *c->mutable_start_time() = TimeUtil::SecondsToTimestamp(1000);
    *c->mutable_end_time() = TimeUtil::SecondsToTimestamp(2000);
    edit(*c);
    return service.DoCreateContest(request).status();
  };
  auto rankings = [&](std::function<void(v1::ListAnnotatorRankingsRequest&)> edit) {
    v1::ListAnnotatorRankingsRequest request;
    request.set_use_case(kDensity);
    request.set_dataset(kDataset);
    edit(request);
    return service.DoListAnnotatorRankings(request).status();
  };
  auto exports = [&](std::function<void(v1::ExportLabelsRequest&)> edit) {
    v1::ExportLabelsRequest request;
    request.set_use_case(kDensity);
    request.set_dataset(kDataset);
    edit(request);
    return service.DoExportLabels(request).status();
  };
  using Code = absl::StatusCode;
  const std::vector<BadRequestCase> cases = {
      // SaveAnnotation
      {"save: missing use case", [&] { return save([](auto& r) { r.clear_use_case(); }); },
       Code::kInvalidArgument, "use_case"},
      {"save: malformed dataset",
       [&] { return save([](auto& r) { r.set_dataset("train"); }); }, Code::kInvalidArgument,
       "\"train\""},
      {"save: instance of another dataset",
       [&] { return save([](auto& r) { r.set_instance("datasets/other/instances/1"); }); },
       Code::kInvalidArgument, "datasets/other/instances/1"},
      {"save: missing annotator", [&] { return save([](auto& r) { r.clear_annotator(); }); },
       Code::kInvalidArgument, "annotator"},
      {"save: unknown use case",
       [&] { return save([](auto& r) { r.set_use_case("useCases/unknown"); }); },
       Code::kNotFound, "useCases/unknown"},
      {"save: unknown dataset",
       [&] {
         return save([](auto& r) {
           r.set_dataset("datasets/gone");
           r.set_instance("datasets/gone/instances/1");
         });
       },
       Code::kNotFound, "datasets/gone"},
      {"save: unknown instance",
       [&] { return save([](auto& r) { r.set_instance("datasets/train/instances/404"); }); },
       Code::kNotFound, "datasets/train/instances/404"},
      {"save: label not in use case", [&] { return save([](auto& r) { r.set_label("E"); }); },
       Code::kInvalidArgument, "A, B, C, D"},
      {"save: negative expected revision",
       [&] { return save([](auto& r) { r.set_expected_revision(-2); }); },
       Code::kInvalidArgument, "-2"},
      {"save: stale expected revision",
       [&] {
         return save([&](auto& r) {
           r.set_instance(h.instance(1));
           r.set_expected_revision(7);
         });
       },
       Code::kAborted, "7"},
      // SkipInstance
      {"skip: missing instance",
       [&] {
         v1::SkipInstanceRequest r;
         r.set_use_case(kDensity);
         r.set_dataset(kDataset);
         r.set_annotator("alice");
         return service.DoSkipInstance(kTrusted, r).status();
       },
       Code::kInvalidArgument, "instance"},
      {"skip: already annotated",
       [&] {
         v1::SkipInstanceRequest r;
         r.set_use_case(kDensity);
         r.set_dataset(kDataset);
         r.set_annotator("alice");
         r.set_instance(h.instance(1));
         return service.DoSkipInstance(kTrusted, r).status();
       },
       Code::kFailedPrecondition, h.instance(1)},
      // GetNextInstance
      {"next: user id with a space",
       [&] {
         v1::GetNextInstanceRequest r;
         r.set_use_case(kDensity);
         r.set_dataset(kDataset);
         r.set_annotator("alice smith");
         return service.DoGetNextInstance(kTrusted, r).status();
       },
       Code::kInvalidArgument, "alice smith"},
      {"next: unknown dataset",
       [&] {
         v1::GetNextInstanceRequest r;
         r.set_use_case(kDensity);
         r.set_dataset("datasets/gone");
         r.set_annotator("alice");
         return service.DoGetNextInstance(kTrusted, r).status();
       },
       Code::kNotFound, "datasets/gone"},
      // FinishSession
      {"finish: no open session",
       [&] {
         v1::FinishSessionRequest r;
         r.set_use_case(kDensity);
         r.set_dataset(kDataset);
         r.set_annotator("nobody");
         return service.DoFinishSession(kTrusted, r).status();
       },
       Code::kFailedPrecondition, "nobody"},
      // ListAnnotations
      {"list: negative page size", [&] { return list([](auto& r) { r.set_page_size(-3); }); },
       Code::kInvalidArgument, "-3"},
      {"list: bad page token", [&] { return list([](auto& r) { r.set_page_token("%%%"); }); },
       Code::kInvalidArgument, "page_token"},
      {"list: bad filter", [&] { return list([](auto& r) { r.set_filter("colour=red"); }); },
       Code::kInvalidArgument, "colour"},
      {"list: unknown use case",
       [&] { return list([](auto& r) { r.set_use_case("useCases/unknown"); }); },
       Code::kNotFound, "useCases/unknown"},
      // GetAnnotation
      {"get: malformed name",
       [&] {
         v1::GetAnnotationRequest r;
         r.set_name("annotation/1");
         r.set_annotator("alice");
         return service.DoGetAnnotation(kTrusted, r).status();
       },
       Code::kInvalidArgument, "annotation/1"},
      {"get: unknown annotation",
       [&] {
         v1::GetAnnotationRequest r;
         r.set_name("annotations/999999");
         r.set_annotator("alice");
         return service.DoGetAnnotation(kTrusted, r).status();
       },
       Code::kNotFound, "annotations/999999"},
      {"get: missing annotator",
       [&] {
         v1::GetAnnotationRequest r;
         r.set_name("annotations/1");
         return service.DoGetAnnotation(kTrusted, r).status();
       },
       Code::kInvalidArgument, "annotator"},
      // GetAnnotationProgress
      {"progress: unknown use case",
       [&] {
         v1::GetAnnotationProgressRequest r;
         r.set_use_case("useCases/unknown");
         r.set_dataset(kDataset);
         r.set_annotator("alice");
         return service.DoGetAnnotationProgress(kTrusted, r).status();
       },
       Code::kNotFound, "useCases/unknown"},
      // SetQuota
      {"quota: missing dataset",
       [&] {
         v1::SetQuotaRequest r;
         r.set_use_case(kDensity);
         r.set_quota(1);
         return service.DoSetQuota(r).status();
       },
       Code::kInvalidArgument, "dataset"},
      {"quota: above the dataset size",
       [&] {
         v1::SetQuotaRequest r;
         r.set_use_case(kDensity);
         r.set_dataset(kDataset);
         r.set_quota(5000);
         return service.DoSetQuota(r).status();
       },
       Code::kInvalidArgument, "5000"},
      // CreateContest, GetContest, ListContests
      {"contest: missing", [&] { return service.DoCreateContest({}).status(); },
       Code::kInvalidArgument, "contest"},
      {"contest: missing start time", [&] { return contest([](auto& c) { c.clear_start_time(); }); },
       Code::kInvalidArgument, "start_time"},
      {"contest: ends before it starts",
       [&] {
         return contest([](auto& c) { *c.mutable_end_time() = TimeUtil::SecondsToTimestamp(10); });
       },
       Code::kInvalidArgument, "end_time"},
      {"contest: unknown dataset",
       [&] { return contest([](auto& c) { c.set_dataset("datasets/gone"); }); }, Code::kNotFound,
       "datasets/gone"},
      {"contest: display name too long",
       [&] { return contest([](auto& c) { c.set_display_name(std::string(300, 'x')); }); },
       Code::kInvalidArgument, "300"},
      {"get contest: malformed name",
       [&] {
         v1::GetContestRequest r;
         r.set_name("contests/abc");
         return service.DoGetContest(r).status();
       },
       Code::kInvalidArgument, "contests/abc"},
      {"list contests: negative page size",
       [&] {
         v1::ListContestsRequest r;
         r.set_page_size(-1);
         return service.DoListContests(r).status();
       },
       Code::kInvalidArgument, "-1"},
      {"list contests: bad page token",
       [&] {
         v1::ListContestsRequest r;
         r.set_page_token("nonsense");
         return service.DoListContests(r).status();
       },
       Code::kInvalidArgument, "page_token"},
      // ListAnnotatorRankings
      {"rankings: nothing to rank",
       [&] {
         return rankings([](auto& r) {
           r.clear_use_case();
           r.clear_dataset();
         });
       },
       Code::kInvalidArgument, "contest"},
      {"rankings: contest and use case",
       [&] { return rankings([](auto& r) { r.set_contest("contests/1"); }); },
       Code::kInvalidArgument, "contests/1"},
      {"rankings: unknown contest",
       [&] {
         return rankings([](auto& r) {
           r.clear_use_case();
           r.clear_dataset();
           r.set_contest("contests/31337");
         });
       },
       Code::kNotFound, "contests/31337"},
      {"rankings: negative page size",
       [&] { return rankings([](auto& r) { r.set_page_size(-9); }); }, Code::kInvalidArgument,
       "-9"},
      // Reference readers
      {"set reference: missing annotator",
       [&] {
         v1::SetReferenceReaderRequest r;
         r.set_use_case(kDensity);
         r.set_dataset(kDataset);
         return service.DoSetReferenceReader(r).status();
       },
       Code::kInvalidArgument, "annotator"},
      {"get reference: none set",
       [&] {
         v1::GetReferenceReaderRequest r;
         r.set_use_case(kDensity);
         r.set_dataset(kDataset);
         return service.DoGetReferenceReader(r).status();
       },
       Code::kNotFound, kDataset},
      {"agreement: detection use case",
       [&] {
         v1::GetAgreementRequest r;
         r.set_use_case(kDetection);
         r.set_dataset(kDataset);
         r.set_annotator("alice");
         return service.DoGetAgreement(kTrusted, r).status();
       },
       Code::kFailedPrecondition, "DETECTION"},
      // ExportLabels and CountLabels
      {"export: unknown tie rule",
       [&] { return exports([](auto& r) { r.set_tie_rule(static_cast<v1::TieRule>(42)); }); },
       Code::kInvalidArgument, "42"},
      {"export: negative page size",
       [&] { return exports([](auto& r) { r.set_page_size(-100); }); }, Code::kInvalidArgument,
       "-100"},
      {"export: bad page token", [&] { return exports([](auto& r) { r.set_page_token("??"); }); },
       Code::kInvalidArgument, "page_token"},
      {"export: invalid annotator",
       [&] { return exports([](auto& r) { r.set_annotator("bad\tid"); }); },
       Code::kInvalidArgument, "annotator"},
      {"count: majority vote of a segmentation use case",
       [&] {
         v1::CountLabelsRequest r;
         r.set_use_case(kSegmentation);
         r.set_dataset(kDataset);
         return service.DoCountLabels(r).status();
       },
       Code::kFailedPrecondition, "SEGMENTATION"},
      // ScoreAgainstReference
      {"score: no predictions",
       [&] {
         v1::ScoreAgainstReferenceRequest r;
         r.set_use_case(kDensity);
         r.set_dataset(kDataset);
         return service.DoScoreAgainstReference(r).status();
       },
       Code::kInvalidArgument, "predictions"},
      {"score: no reference reader",
       [&] {
         v1::ScoreAgainstReferenceRequest r;
         r.set_use_case(kDensity);
         r.set_dataset(kDataset);
         v1::InstancePrediction* p = r.add_predictions();
         p->set_instance(h.instance(1));
         for (int c = 0; c < 4; ++c) p->add_probabilities(0.25);
         return service.DoScoreAgainstReference(r).status();
       },
       Code::kFailedPrecondition, "SetReferenceReader"},
  };
  for (const BadRequestCase& c : cases) {
    INFO(c.what);
    absl::Status status = c.call();
    INFO(status.ToString());
    CHECK(status.code() == c.code);
    CHECK(absl::StrContains(status.message(), c.named));
    CHECK_FALSE(GetErrorReason(status).empty());
  }

  // Bad requests changed nothing.
  auto stored = h.List("alice", "");
  REQUIRE(stored.ok());
  CHECK(stored->total_size() == 1);
}

}  // namespace
}  // namespace ailab::annotation
