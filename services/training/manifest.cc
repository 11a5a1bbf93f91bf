#include "manifest.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ailab/status/status.h"

namespace ailab::training {
namespace {

// True when the last two dimensions of `shape` are `size` (an unknown shape passes).
bool ShapeMatches(const std::vector<int64_t>& shape, int size) {
  if (shape.empty()) return true;
  if (shape.size() < 2) return false;
  return shape[shape.size() - 1] == size && shape[shape.size() - 2] == size;
}

std::string FormatShape(const std::vector<int64_t>& shape) { return absl::StrJoin(shape, "x"); }

// Describes the labelled instances that could not be used, for error messages.
std::string DescribeLeftOut(const ManifestResult& result, const std::string& example_shape) {
  std::vector<std::string> parts;
  if (result.without_array > 0) {
    parts.push_back(absl::StrCat(result.without_array,
                                 " have no prepared array (run an ARRAY preparation of the "
                                 "dataset)"));
  }
  if (result.wrong_size > 0) {
    parts.push_back(absl::StrCat(result.wrong_size, " have arrays of another size (", example_shape,
                                 "; set image_size to match or prepare arrays at image_size)"));
  }
  if (result.without_split > 0) {
    parts.push_back(
        absl::StrCat(result.without_split, " have no split (assign splits with AssignSplits)"));
  }
  if (result.not_in_dataset > 0) {
    parts.push_back(absl::StrCat(result.not_in_dataset, " are no longer in the dataset"));
  }
  if (parts.empty()) return "";
  return absl::StrCat("; of the labelled instances, ", absl::StrJoin(parts, ", "));
}

}  // namespace

std::string FormatCounts(const std::vector<v1::LabelCount>& counts) {
  return absl::StrJoin(counts, ", ", [](std::string* out, const v1::LabelCount& count) {
    absl::StrAppend(out, count.category(), ": ", count.count());
  });
}

absl::StatusOr<ManifestResult> BuildManifest(const ManifestInput& input) {
  const int num_classes = static_cast<int>(input.labels.categories.size());
  if (num_classes < 2) {
    return FailedPrecondition(
        "TOO_FEW_CATEGORIES",
        absl::StrCat("use case ", input.use_case, " has ", num_classes,
                     " categories; a classifier needs at least 2 allowed values in its first "
                     "data element"),
        {{"use_case", input.use_case}});
  }
  if (input.options.sampling() == "positives_only" && num_classes != 2) {
    return InvalidArgument(
        "INVALID_TRAINING_OPTION", "training_job.options.sampling",
        absl::StrCat("sampling \"positives_only\" needs a binary use case, but ", input.use_case,
                     " has ", num_classes, " categories; use \"random\" or \"equal\""),
        {{"use_case", input.use_case}, {"value", "positives_only"}});
  }

  std::map<std::string, const InstanceRecord*> instances;
  for (const InstanceRecord& instance : input.instances) instances[instance.name] = &instance;

  ManifestResult result;
  result.label_counts.resize(num_classes);
  for (int c = 0; c < num_classes; ++c)
    result.label_counts[c].set_category(input.labels.categories[c]);

  // Joins each label with its instance, in instance name order for a stable manifest.
  std::vector<std::pair<std::string, int>> labels = input.labels.labels;
  std::sort(labels.begin(), labels.end());
  std::string other_shape;
  for (const auto& [name, label] : labels) {
    if (label < 0 || label >= num_classes) {
      return Internal(
          "LABEL_OUT_OF_RANGE",
          absl::StrCat("the annotation service returned category index ", label, " for ", name,
                       " but the use case has ", num_classes, " categories"),
          {{"instance", name}});
    }
    auto it = instances.find(name);
    if (it == instances.end()) {
      ++result.not_in_dataset;
      continue;
    }
    const InstanceRecord& instance = *it->second;
    if (instance.array_blob.empty()) {
      ++result.without_array;
      continue;
    }
    if (!ShapeMatches(instance.array_shape, input.options.image_size())) {
      ++result.wrong_size;
      other_shape = FormatShape(instance.array_shape);
      continue;
    }
    if (instance.split == v1::DATA_SPLIT_UNSPECIFIED) {
      ++result.without_split;
      continue;
    }

    v1::ManifestExample* example = result.manifest.add_examples();
    example->set_instance(name);
    example->set_array_blob(instance.array_blob);
    example->set_label(label);
    example->set_split(instance.split);

    v1::LabelCount& count = result.label_counts[label];
    count.set_count(count.count() + 1);
    if (instance.split == v1::TRAIN) count.set_train_count(count.train_count() + 1);
    if (instance.split == v1::VALIDATION) count.set_validation_count(count.validation_count() + 1);
    if (instance.split == v1::TEST) count.set_test_count(count.test_count() + 1);
  }

  const std::string counts = FormatCounts(result.label_counts);
  const int usable = result.manifest.examples_size();
  if (usable < kMinLabelledInstances) {
    return FailedPrecondition(
        "TOO_FEW_LABELLED_INSTANCES",
        absl::StrCat("only ", usable, " labelled instances of ", input.dataset,
                     " with label source \"", input.label_source,
                     "\" have prepared arrays and a split (", counts, "); training needs at least ",
                     kMinLabelledInstances, DescribeLeftOut(result, other_shape)),
        {{"usable", absl::StrCat(usable)},
         {"counts", counts},
         {"minimum", absl::StrCat(kMinLabelledInstances)}});
  }

  if (input.options.sampling() == "equal") {
    for (const v1::LabelCount& count : result.label_counts) {
      if (count.train_count() >= kMinPerClassForEqualSampling) continue;
      std::string train_counts =
          absl::StrJoin(result.label_counts, ", ", [](std::string* out, const v1::LabelCount& c) {
            absl::StrAppend(out, c.category(), ": ", c.train_count());
          });
      return FailedPrecondition(
          "TOO_FEW_INSTANCES_PER_CLASS",
          absl::StrCat("sampling \"equal\" needs at least ", kMinPerClassForEqualSampling,
                       " labelled training instances of each class, but class ", count.category(),
                       " has ", count.train_count(), " (training split: ", train_counts,
                       "; all splits: ", counts, "); label more instances of ", count.category(),
                       " or use sampling \"random\""),
          {{"category", count.category()},
           {"train_count", absl::StrCat(count.train_count())},
           {"counts", counts},
           {"minimum", absl::StrCat(kMinPerClassForEqualSampling)}});
    }
  }

  int train = 0, validation = 0, test = 0;
  for (const v1::LabelCount& count : result.label_counts) {
    train += count.train_count();
    validation += count.validation_count();
    test += count.test_count();
  }
  if (train == 0 || validation == 0 || test == 0) {
    std::string splits =
        absl::StrCat("TRAIN: ", train, ", VALIDATION: ", validation, ", TEST: ", test);
    return FailedPrecondition(
        "EMPTY_SPLIT",
        absl::StrCat("every split needs labelled instances, but ", input.dataset, " has ", splits,
                     "; assign splits with AssignSplits"),
        {{"splits", splits}, {"dataset", input.dataset}});
  }

  v1::TrainingManifest& manifest = result.manifest;
  manifest.set_training_job(input.training_job);
  manifest.set_use_case(input.use_case);
  manifest.set_dataset(input.dataset);
  manifest.set_label_source(input.label_source);
  for (const std::string& category : input.labels.categories) manifest.add_classes(category);
  manifest.set_image_size(input.options.image_size());
  return result;
}

}  // namespace ailab::training
