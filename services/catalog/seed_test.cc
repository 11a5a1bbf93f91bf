#include "seed.h"

#include <catch2/catch.hpp>
#include <map>
#include <set>

#include "names.h"
#include "validation.h"

namespace ailab::catalog {
namespace {

using ::ailab::catalog::v1::DataElement;
using ::ailab::catalog::v1::UseCase;

TEST_CASE("SeedUseCases: every seed parses and validates", "[catalog]") {
  auto seeds = SeedUseCases();
  REQUIRE(seeds.ok());
  REQUIRE(seeds->size() >= 9);
  std::set<std::string> names;
  for (const UseCase& seed : *seeds) {
    CAPTURE(seed.name());
    CHECK(names.insert(seed.name()).second);
    CHECK(ParseUseCaseName(seed.name(), "name").ok());
    CHECK(seed.submitter() == kSeedUser);
    ValidationLevel level =
        seed.state() == UseCase::DRAFT ? ValidationLevel::kDraft : ValidationLevel::kSubmission;
    absl::Status status = ValidateUseCaseContent(seed, level);
    CHECK(status.ok());
    if (!status.ok()) WARN(status.message());
    for (const DataElement& element : seed.data_elements()) {
      CHECK(element.value_kind() != DataElement::VALUE_KIND_UNSPECIFIED);
    }
  }
}

TEST_CASE("SeedUseCases: breast density has categories A to D", "[catalog]") {
  auto seeds = SeedUseCases();
  REQUIRE(seeds.ok());
  const UseCase* breast = nullptr;
  for (const UseCase& seed : *seeds) {
    if (seed.name() == "useCases/breast-density") breast = &seed;
  }
  REQUIRE(breast != nullptr);
  CHECK(breast->state() == UseCase::PUBLISHED);
  CHECK(breast->modality() == UseCase::MG);
  CHECK(breast->body_area() == UseCase::BREAST);
  CHECK(breast->task_kind() == UseCase::MULTICLASS_CLASSIFICATION);
  REQUIRE(breast->data_elements_size() == 1);
  const DataElement& element = breast->data_elements(0);
  CHECK(element.id() == "breast_density");
  REQUIRE(element.allowed_values_size() == 4);
  const char* codes[] = {"A", "B", "C", "D"};
  for (int i = 0; i < 4; ++i) {
    CHECK(element.allowed_values(i).value() == codes[i]);
    CHECK_FALSE(element.allowed_values(i).label().empty());
    CHECK_FALSE(element.allowed_values(i).report_text().empty());
  }
}

TEST_CASE("SeedUseCases: cover modalities, task kinds and review states", "[catalog]") {
  auto seeds = SeedUseCases();
  REQUIRE(seeds.ok());
  std::set<UseCase::Modality> published_modalities;
  std::set<UseCase::TaskKind> published_tasks;
  std::map<UseCase::State, int> states;
  for (const UseCase& seed : *seeds) {
    ++states[seed.state()];
    if (seed.state() != UseCase::PUBLISHED) continue;
    published_modalities.insert(seed.modality());
    published_tasks.insert(seed.task_kind());
  }
  CHECK(states[UseCase::PUBLISHED] >= 6);
  CHECK(states[UseCase::SUBMITTED] >= 1);
  CHECK(states[UseCase::DRAFT] >= 1);
  CHECK(published_modalities.size() >= 4);
  CHECK(published_tasks.size() == 4);
}

}  // namespace
}  // namespace ailab::catalog
