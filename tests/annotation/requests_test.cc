// Unit tests of the annotation request checks: names, user ids, the filter and the
// content of an annotation against its use case.
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "ailab/status/status.h"
#include "catch2/catch.hpp"
#include "services/annotation/requests.h"

namespace ailab::annotation {
namespace {

UseCaseInfo Density() {
  return UseCaseInfo{"useCases/breast-density", TaskKind::kMulticlassClassification,
                     {"A", "B", "C", "D"}};
}

UseCaseInfo Detection() {
  return UseCaseInfo{"useCases/mass-detection", TaskKind::kDetection, {"mass", "calcification"}};
}

UseCaseInfo Segmentation() {
  return UseCaseInfo{"useCases/lesion-segmentation", TaskKind::kSegmentation, {"lesion"}};
}

v1::Box MakeBox(double x, double y, double width, double height, const std::string& label) {
  v1::Box box;
  box.set_x(x);
  box.set_y(y);
  box.set_width(width);
  box.set_height(height);
  box.set_label(label);
  return box;
}

google::protobuf::RepeatedPtrField<v1::Box> NoBoxes() { return {}; }
google::protobuf::RepeatedPtrField<v1::Mask> NoMasks() { return {}; }

TEST_CASE("CheckUseCaseName: accepts and rejects names") {
  CHECK(CheckUseCaseName("use_case", "useCases/breast-density").ok());

  absl::Status missing = CheckUseCaseName("use_case", "");
  CHECK(missing.code() == absl::StatusCode::kInvalidArgument);
  CHECK(GetErrorReason(missing) == "MISSING_FIELD");
  CHECK(absl::StrContains(missing.message(), "use_case"));

  for (const char* bad : {"breast-density", "useCases/", "useCases/a/b", "datasets/x",
                          "useCases/with space"}) {
    INFO(bad);
    absl::Status status = CheckUseCaseName("use_case", bad);
    CHECK(status.code() == absl::StatusCode::kInvalidArgument);
    CHECK(absl::StrContains(status.message(), bad));
  }
}

TEST_CASE("CheckInstanceName: requires the request's dataset") {
  CHECK(CheckInstanceName("instance", "datasets/d1/instances/7", "datasets/d1").ok());

  absl::Status other = CheckInstanceName("instance", "datasets/d2/instances/7", "datasets/d1");
  CHECK(other.code() == absl::StatusCode::kInvalidArgument);
  CHECK(GetErrorReason(other) == "INSTANCE_NOT_IN_DATASET");
  CHECK(absl::StrContains(other.message(), "datasets/d2/instances/7"));

  for (const char* bad : {"datasets/d1/7", "datasets/d1/instances/", "instances/7",
                          "datasets/d1/instances/7/x"}) {
    INFO(bad);
    CHECK(GetErrorReason(CheckInstanceName("instance", bad, "datasets/d1")) ==
          "INVALID_INSTANCE_NAME");
  }
}

TEST_CASE("CheckUserId: printable ASCII of bounded length") {
  CHECK(CheckUserId("annotator", "alice@hospital.org").ok());
  CHECK(GetErrorReason(CheckUserId("annotator", "")) == "MISSING_FIELD");
  CHECK(GetErrorReason(CheckUserId("annotator", "two words")) == "INVALID_USER_ID");
  CHECK(GetErrorReason(CheckUserId("annotator", std::string(129, 'a'))) == "INVALID_USER_ID");
  CHECK(GetErrorReason(CheckUserId("annotator", std::string("nul\0x", 5))) == "INVALID_USER_ID");
}

TEST_CASE("ParseAnnotationName: positive decimal ids only") {
  auto id = ParseAnnotationName("name", "annotations/42");
  REQUIRE(id.ok());
  CHECK(*id == 42);
  CHECK(AnnotationName(42) == "annotations/42");
  for (const char* bad : {"annotations/0", "annotations/-3", "annotations/x", "annotations/",
                          "contests/4", "annotations/+4", "annotations/4 "}) {
    INFO(bad);
    auto parsed = ParseAnnotationName("name", bad);
    CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument);
  }
  CHECK(ParseContestName("name", "contests/9").value() == 9);
}

TEST_CASE("ParseAnnotationFilter: terms joined by AND") {
  auto empty = ParseAnnotationFilter("  ");
  REQUIRE(empty.ok());
  CHECK_FALSE(empty->state.has_value());

  auto skipped = ParseAnnotationFilter("state=SKIPPED");
  REQUIRE(skipped.ok());
  CHECK(skipped->state == v1::Annotation::SKIPPED);

  auto combined = ParseAnnotationFilter(
      "state = annotated and label=\"B\" AND instance=\"datasets/d/instances/1\"");
  REQUIRE(combined.ok());
  CHECK(combined->state == v1::Annotation::ANNOTATED);
  CHECK(combined->label == "B");
  CHECK(combined->instance == "datasets/d/instances/1");

  auto bad_state = ParseAnnotationFilter("state=DONE");
  CHECK(bad_state.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(bad_state.status().message(), "DONE"));

  auto bad_field = ParseAnnotationFilter("annotator=bob");
  CHECK(bad_field.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(bad_field.status().message(), "annotator"));

  CHECK(ParseAnnotationFilter("state").status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("CheckAnnotationContent: classification labels") {
  CHECK(CheckAnnotationContent(Density(), "C", NoBoxes(), NoMasks()).ok());

  absl::Status unknown = CheckAnnotationContent(Density(), "E", NoBoxes(), NoMasks());
  CHECK(unknown.code() == absl::StatusCode::kInvalidArgument);
  CHECK(GetErrorReason(unknown) == "LABEL_NOT_IN_USE_CASE");
  CHECK(absl::StrContains(unknown.message(), "\"E\""));
  CHECK(absl::StrContains(unknown.message(), "A, B, C, D"));

  absl::Status missing = CheckAnnotationContent(Density(), "", NoBoxes(), NoMasks());
  CHECK(GetErrorReason(missing) == "MISSING_FIELD");

  google::protobuf::RepeatedPtrField<v1::Box> boxes;
  *boxes.Add() = MakeBox(1, 2, 3, 4, "A");
  absl::Status with_box = CheckAnnotationContent(Density(), "A", boxes, NoMasks());
  CHECK(GetErrorReason(with_box) == "BOXES_NOT_ALLOWED");
  CHECK(absl::StrContains(with_box.message(), "MULTICLASS_CLASSIFICATION"));

  UseCaseInfo single = Density();
  single.categories = {"A"};
  CHECK(CheckAnnotationContent(single, "A", NoBoxes(), NoMasks()).code() ==
        absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("CheckAnnotationContent: detection boxes") {
  google::protobuf::RepeatedPtrField<v1::Box> boxes;
  *boxes.Add() = MakeBox(10, 20, 30.5, 40, "mass");
  v1::Box scored = MakeBox(0, 0, 1, 1, "calcification");
  scored.set_score(0.75);
  *boxes.Add() = scored;
  CHECK(CheckAnnotationContent(Detection(), "", boxes, NoMasks()).ok());
  CHECK(CheckAnnotationContent(Detection(), "", NoBoxes(), NoMasks()).ok());

  struct Case {
    v1::Box box;
    const char* reason;
  };
  v1::Box bad_score = MakeBox(0, 0, 1, 1, "mass");
  bad_score.set_score(1.5);
  const Case cases[] = {
      {MakeBox(-1, 0, 5, 5, "mass"), "INVALID_BOX"},
      {MakeBox(0, 0, 0, 5, "mass"), "INVALID_BOX"},
      {MakeBox(0, 0, 5, -2, "mass"), "INVALID_BOX"},
      {MakeBox(0, 0, 5, 5, "tumour"), "LABEL_NOT_IN_USE_CASE"},
      {bad_score, "INVALID_BOX"},
  };
  for (const Case& c : cases) {
    INFO(c.box.ShortDebugString());
    google::protobuf::RepeatedPtrField<v1::Box> one;
    *one.Add() = c.box;
    absl::Status status = CheckAnnotationContent(Detection(), "", one, NoMasks());
    CHECK(status.code() == absl::StatusCode::kInvalidArgument);
    CHECK(GetErrorReason(status) == c.reason);
    CHECK(absl::StrContains(status.message(), "boxes[0]"));
  }

  google::protobuf::RepeatedPtrField<v1::Mask> masks;
  masks.Add()->set_label("mass");
  CHECK(GetErrorReason(CheckAnnotationContent(Detection(), "", NoBoxes(), masks)) ==
        "MASKS_NOT_ALLOWED");
}

TEST_CASE("CheckAnnotationContent: segmentation masks") {
  v1::Mask mask;
  mask.set_label("lesion");
  mask.set_width(4);
  mask.set_height(3);
  for (uint32_t count : {5u, 3u, 4u}) mask.add_counts(count);
  google::protobuf::RepeatedPtrField<v1::Mask> masks;
  *masks.Add() = mask;
  CHECK(CheckAnnotationContent(Segmentation(), "", NoBoxes(), masks).ok());

  // Run lengths that do not cover the image.
  masks[0].set_counts(2, 3);
  absl::Status short_runs = CheckAnnotationContent(Segmentation(), "", NoBoxes(), masks);
  CHECK(GetErrorReason(short_runs) == "INVALID_MASK");
  CHECK(absl::StrContains(short_runs.message(), "11"));
  CHECK(absl::StrContains(short_runs.message(), "12"));

  masks[0].set_counts(2, 4);
  masks[0].set_width(0);
  CHECK(GetErrorReason(CheckAnnotationContent(Segmentation(), "", NoBoxes(), masks)) ==
        "INVALID_MASK");

  masks[0].set_width(4);
  masks[0].set_label("cyst");
  CHECK(GetErrorReason(CheckAnnotationContent(Segmentation(), "", NoBoxes(), masks)) ==
        "LABEL_NOT_IN_USE_CASE");

  google::protobuf::RepeatedPtrField<v1::Box> boxes;
  *boxes.Add() = MakeBox(1, 1, 1, 1, "lesion");
  CHECK(GetErrorReason(CheckAnnotationContent(Segmentation(), "", boxes, NoMasks())) ==
        "BOXES_NOT_ALLOWED");
}

}  // namespace
}  // namespace ailab::annotation
