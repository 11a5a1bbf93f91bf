#include "seed.h"

#include "absl/strings/str_cat.h"
#include "ailab/log/log.h"
#include "ailab/status/status.h"
#include "google/protobuf/text_format.h"
#include "names.h"
#include "validation.h"

namespace ailab::catalog {
namespace {

using ::ailab::catalog::v1::UseCase;

// One built-in use case in protobuf text format.
struct SeedText {
  const char* id;
  const char* text;
};

// Descriptions and report sentences are written for this catalog. Categories follow
// the published grading systems they name (BI-RADS breast composition, Kellgren-
// Lawrence).
constexpr SeedText kSeeds[] = {
    {"breast-density", R"pb(
       display_name: "Breast density"
       description: "Assigns the BI-RADS breast composition category (A to D) to a screening mammogram. Dense tissue lowers the sensitivity of mammography and is itself a risk factor for breast cancer, so a reproducible density category supports decisions on supplemental screening and the density notice sent to patients."
       body_area: BREAST
       modality: MG
       task_kind: MULTICLASS_CLASSIFICATION
       state: PUBLISHED
       data_elements {
         id: "breast_density"
         name: "Breast density"
         description: "Overall amount of fibroglandular tissue in both breasts, as one of the four BI-RADS composition categories."
         value_kind: CATEGORICAL
         allowed_values {
           value: "A"
           label: "Almost entirely fatty"
           report_text: "The breasts are almost entirely fatty, so mammography is highly sensitive in this patient."
         }
         allowed_values {
           value: "B"
           label: "Scattered areas of fibroglandular density"
           report_text: "There are scattered areas of fibroglandular density within mostly fatty breasts."
         }
         allowed_values {
           value: "C"
           label: "Heterogeneously dense"
           report_text: "The breasts are heterogeneously dense, and dense regions could hide a small mass."
         }
         allowed_values {
           value: "D"
           label: "Extremely dense"
           report_text: "The breasts are extremely dense, which markedly lowers the sensitivity of mammography."
         }
       }
     )pb"},
    {"pneumothorax-chest-radiograph", R"pb(
       display_name: "Pneumothorax on chest radiograph"
       description: "Flags frontal chest radiographs that show air in the pleural space, so that those studies are read first. A large or tension pneumothorax needs treatment within minutes, and worklist triage shortens the delay before a chest tube is placed."
       body_area: CHEST
       modality: DX
       task_kind: BINARY_CLASSIFICATION
       state: PUBLISHED
       data_elements {
         id: "pneumothorax"
         name: "Pneumothorax"
         description: "Whether the radiograph shows a pneumothorax on either side."
         value_kind: CATEGORICAL
         allowed_values {
           value: "ABSENT"
           label: "No pneumothorax"
           report_text: "No pneumothorax is seen."
         }
         allowed_values {
           value: "PRESENT"
           label: "Pneumothorax"
           report_text: "A pneumothorax is present; urgent clinical correlation is advised."
         }
       }
     )pb"},
    {"intracranial-hemorrhage-head-ct", R"pb(
       display_name: "Intracranial hemorrhage on head CT"
       description: "Detects acute bleeding inside the skull on non-contrast head CT and moves positive studies to the top of the worklist. Finding a hemorrhage early changes the care of patients with stroke symptoms, head trauma or anticoagulation."
       body_area: HEAD
       modality: CT
       task_kind: BINARY_CLASSIFICATION
       state: PUBLISHED
       data_elements {
         id: "intracranial_hemorrhage"
         name: "Intracranial hemorrhage"
         description: "Whether the study shows acute intracranial blood of any type."
         value_kind: CATEGORICAL
         allowed_values {
           value: "ABSENT"
           label: "No hemorrhage"
           report_text: "There is no acute intracranial hemorrhage."
         }
         allowed_values {
           value: "PRESENT"
           label: "Hemorrhage"
           report_text: "Acute intracranial hemorrhage is present."
         }
       }
       data_elements {
         id: "hemorrhage_subtype"
         name: "Hemorrhage subtype"
         description: "Compartment of the largest hemorrhage, when one is present."
         value_kind: CATEGORICAL
         allowed_values {
           value: "EPIDURAL"
           label: "Epidural"
           report_text: "The blood collection lies between the skull and the dura."
         }
         allowed_values {
           value: "SUBDURAL"
           label: "Subdural"
           report_text: "A subdural collection of blood is seen along the brain surface."
         }
         allowed_values {
           value: "SUBARACHNOID"
           label: "Subarachnoid"
           report_text: "There is blood in the subarachnoid spaces."
         }
         allowed_values {
           value: "INTRAPARENCHYMAL"
           label: "Intraparenchymal"
           report_text: "There is a hemorrhage within the brain tissue."
         }
         allowed_values {
           value: "INTRAVENTRICULAR"
           label: "Intraventricular"
           report_text: "Blood is present within the ventricles."
         }
       }
     )pb"},
    {"pulmonary-nodule-detection-ct", R"pb(
       display_name: "Pulmonary nodule detection on chest CT"
       description: "Draws a box around each lung nodule on chest CT, including low-dose lung cancer screening scans. Automated marking lowers the number of small nodules that readers overlook and feeds the size and composition needed for a follow-up recommendation."
       body_area: CHEST
       modality: CT
       task_kind: DETECTION
       state: PUBLISHED
       data_elements {
         id: "pulmonary_nodule"
         name: "Pulmonary nodule"
         description: "Bounding box of each nodule, in pixel coordinates of the axial slice where it is largest."
         value_kind: BOUNDING_BOX
       }
       data_elements {
         id: "nodule_diameter"
         name: "Nodule diameter"
         description: "Mean of the long and short axis of the nodule on the same axial slice."
         value_kind: NUMERIC
         unit: "mm"
       }
       data_elements {
         id: "nodule_composition"
         name: "Nodule composition"
         description: "Attenuation of the nodule."
         value_kind: CATEGORICAL
         allowed_values { value: "SOLID" label: "Solid" report_text: "The nodule is solid." }
         allowed_values {
           value: "PART_SOLID"
           label: "Part-solid"
           report_text: "The nodule is part-solid, with a solid component inside ground-glass attenuation."
         }
         allowed_values {
           value: "GROUND_GLASS"
           label: "Ground-glass"
           report_text: "The nodule has pure ground-glass attenuation."
         }
       }
     )pb"},
    {"liver-segmentation-ct", R"pb(
       display_name: "Liver segmentation on abdominal CT"
       description: "Outlines the liver on contrast-enhanced abdominal CT. The liver volume informs planning of resection and living-donor transplantation, and the outline is the starting point for measuring lesions and liver fat."
       body_area: ABDOMEN
       modality: CT
       task_kind: SEGMENTATION
       state: PUBLISHED
       data_elements {
         id: "liver"
         name: "Liver"
         description: "Voxel mask of the liver parenchyma, including the vessels inside it."
         value_kind: MASK
       }
       data_elements {
         id: "liver_volume"
         name: "Liver volume"
         description: "Volume of the liver mask."
         value_kind: NUMERIC
         unit: "mL"
       }
     )pb"},
    {"knee-osteoarthritis-grade", R"pb(
       display_name: "Knee osteoarthritis grade on radiograph"
       description: "Grades the severity of knee osteoarthritis on weight-bearing radiographs with the Kellgren-Lawrence scale. A consistent grade helps track disease over time and select patients for joint replacement."
       body_area: MUSCULOSKELETAL
       modality: DX
       task_kind: MULTICLASS_CLASSIFICATION
       state: PUBLISHED
       data_elements {
         id: "kellgren_lawrence_grade"
         name: "Kellgren-Lawrence grade"
         description: "Radiographic severity of osteoarthritis of the knee, from 0 (none) to 4 (severe)."
         value_kind: CATEGORICAL
         allowed_values {
           value: "0"
           label: "Grade 0: no osteoarthritis"
           report_text: "There are no radiographic signs of osteoarthritis."
         }
         allowed_values {
           value: "1"
           label: "Grade 1: doubtful"
           report_text: "Possible tiny osteophytes are seen without definite joint space narrowing."
         }
         allowed_values {
           value: "2"
           label: "Grade 2: minimal"
           report_text: "Definite osteophytes are present, and the joint space may be narrowed."
         }
         allowed_values {
           value: "3"
           label: "Grade 3: moderate"
           report_text: "There are multiple osteophytes with definite joint space narrowing and some subchondral sclerosis."
         }
         allowed_values {
           value: "4"
           label: "Grade 4: severe"
           report_text: "Large osteophytes, marked joint space narrowing and bone deformity indicate severe osteoarthritis."
         }
       }
     )pb"},
    {"lymphoma-lesion-detection-pet", R"pb(
       display_name: "Lymphoma lesion detection on PET-CT"
       description: "Marks FDG-avid lesions on whole-body PET-CT done for lymphoma staging and response assessment. Marking every lesion saves reading time and makes the total metabolic tumor burden measurable."
       body_area: WHOLE_BODY
       modality: PT
       task_kind: DETECTION
       state: PUBLISHED
       data_elements {
         id: "fdg_avid_lesion"
         name: "FDG-avid lesion"
         description: "Point at the hottest voxel of each lesion with uptake above the liver background."
         value_kind: POINT
       }
       data_elements {
         id: "suv_max"
         name: "Maximum standardized uptake value"
         description: "Highest body-weight SUV inside the lesion."
         value_kind: NUMERIC
         unit: "g/mL"
       }
     )pb"},
    {"prostate-segmentation-mr", R"pb(
       display_name: "Prostate segmentation on MR"
       description: "Outlines the prostate gland on axial T2-weighted MR. The gland volume gives the PSA density used in biopsy decisions, and the outline is needed for fusion biopsy and radiotherapy planning."
       body_area: PELVIS
       modality: MR
       task_kind: SEGMENTATION
       state: SUBMITTED
       data_elements {
         id: "prostate_gland"
         name: "Prostate gland"
         description: "Voxel mask of the whole gland, from base to apex."
         value_kind: MASK
       }
       data_elements {
         id: "prostate_volume"
         name: "Prostate volume"
         description: "Volume of the gland mask."
         value_kind: NUMERIC
         unit: "mL"
       }
     )pb"},
    {"thyroid-nodule-ultrasound", R"pb(
       display_name: "Thyroid nodule risk on ultrasound"
       description: "Sorts thyroid nodules seen on ultrasound into low and high suspicion for malignancy, so that fine-needle aspiration is offered where it is likely to help and avoided where it is not."
       body_area: NECK
       modality: US
       task_kind: BINARY_CLASSIFICATION
       state: SUBMITTED
       data_elements {
         id: "thyroid_nodule_suspicion"
         name: "Thyroid nodule suspicion"
         description: "Suspicion of malignancy from the nodule's sonographic features."
         value_kind: CATEGORICAL
         allowed_values {
           value: "LOW"
           label: "Low suspicion"
           report_text: "The nodule has a low-suspicion appearance."
         }
         allowed_values {
           value: "HIGH"
           label: "High suspicion"
           report_text: "The nodule has suspicious features, and tissue sampling should be considered."
         }
       }
     )pb"},
    {"pulmonary-embolism-ct-angiography", R"pb(
       display_name: "Pulmonary embolism on CT angiography"
       description: "Detects filling defects in the pulmonary arteries on CT pulmonary angiography, so that positive studies reach the treating team sooner."
       body_area: CHEST
       modality: CT
       task_kind: BINARY_CLASSIFICATION
       state: DRAFT
       data_elements {
         id: "pulmonary_embolism"
         name: "Pulmonary embolism"
         value_kind: CATEGORICAL
         allowed_values {
           value: "ABSENT"
           label: "No pulmonary embolism"
           report_text: "No pulmonary embolism is seen."
         }
         allowed_values {
           value: "PRESENT"
           label: "Pulmonary embolism"
           report_text: "There are filling defects in the pulmonary arteries, in keeping with pulmonary embolism."
         }
       }
     )pb"},
};

}  // namespace

absl::StatusOr<std::vector<UseCase>> SeedUseCases() {
  std::vector<UseCase> use_cases;
  for (const SeedText& seed : kSeeds) {
    UseCase use_case;
    if (!google::protobuf::TextFormat::ParseFromString(seed.text, &use_case)) {
      return Internal(
          "INVALID_SEED",
          absl::StrCat("built-in use case \"", seed.id, "\" does not parse as a UseCase"),
          {{"use_case_id", seed.id}});
    }
    use_case.set_name(UseCaseName(seed.id));
    use_case.set_submitter(std::string(kSeedUser));
    use_cases.push_back(std::move(use_case));
  }
  return use_cases;
}

absl::StatusOr<int> SeedCatalog(CatalogStore& store) {
  auto logger = log::Logger("catalog");
  AILAB_ASSIGN_OR_RETURN(std::vector<UseCase> seeds, SeedUseCases());
  int inserted = 0;
  for (const UseCase& seed : seeds) {
    std::string id = seed.name().substr(kUseCasesCollection.size());
    ValidationLevel level =
        seed.state() == UseCase::DRAFT ? ValidationLevel::kDraft : ValidationLevel::kSubmission;
    AILAB_RETURN_IF_ERROR(
        Annotate(ValidateUseCaseContent(seed, level), absl::StrCat("built-in use case ", id)));
    AILAB_ASSIGN_OR_RETURN(bool added, store.InsertUseCaseIfAbsent(id, seed, "built-in use case"));
    if (added) ++inserted;
  }
  logger->info("seeded use cases inserted={} already_present={}", inserted,
               static_cast<int>(seeds.size()) - inserted);
  return inserted;
}

}  // namespace ailab::catalog
