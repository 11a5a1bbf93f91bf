#include "splits.h"

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"

namespace {

using ailab::ingest::AssignPatientSplits;
using ailab::ingest::SplitFractions;
namespace v1 = ailab::ingest::v1;

std::vector<std::string> Patients(int n) {
  std::vector<std::string> patients;
  for (int i = 0; i < n; ++i) patients.push_back(absl::StrCat("anon-", i));
  return patients;
}

TEST_CASE("AssignPatientSplits: fractions of patients", "[splits]") {
  auto splits = AssignPatientSplits(Patients(100), SplitFractions{0.7, 0.15, 0.15}, 7);
  REQUIRE(splits.ok());
  int train = 0, validation = 0, test = 0;
  for (const auto& [patient, split] : *splits) {
    train += split == v1::TRAIN;
    validation += split == v1::VALIDATION;
    test += split == v1::TEST;
  }
  CHECK(train == 70);
  CHECK(validation == 15);
  CHECK(test == 15);
}

TEST_CASE("AssignPatientSplits: same seed gives the same splits", "[splits]") {
  std::vector<std::string> patients = Patients(50);
  auto a = AssignPatientSplits(patients, {}, 42);
  std::vector<std::string> reversed(patients.rbegin(), patients.rend());
  auto b = AssignPatientSplits(reversed, {}, 42);
  auto c = AssignPatientSplits(patients, {}, 43);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE(c.ok());
  CHECK(*a == *b);
  CHECK(*a != *c);
}

TEST_CASE("AssignPatientSplits: invalid fractions", "[splits]") {
  CHECK(AssignPatientSplits(Patients(3), SplitFractions{0.5, 0.5, 0.5}, 1).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(AssignPatientSplits(Patients(3), SplitFractions{-0.1, 0.6, 0.5}, 1).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("AssignPatientSplits: one patient goes to train", "[splits]") {
  auto splits = AssignPatientSplits(Patients(1), SplitFractions{0.7, 0.15, 0.15}, 1);
  REQUIRE(splits.ok());
  CHECK(splits->begin()->second == v1::TRAIN);
}

}  // namespace
