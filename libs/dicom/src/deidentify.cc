// De-identification: DICOM PS3.15 Annex E, Basic Application Level Confidentiality
// Profile, with the Retain Longitudinal Temporal Information with Modified Dates option
// and, when asked, the Retain Patient Characteristics option. See deidentify.h.
#include "ailab/dicom/deidentify.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "ailab/status/status.h"
#include "internal.h"

namespace ailab::dicom {
namespace {

using Digest = std::array<uint8_t, 32>;

Digest Hmac(absl::string_view key, absl::string_view message) {
  Digest digest{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest.data(),
       &length);
  return digest;
}

std::string Hex(const uint8_t* data, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 15]);
  }
  return out;
}

// Action of the profile on one attribute (PS3.15 Table E.1-1 action codes).
enum class Action {
  kRemove,  // X
  kEmpty,   // Z
  kPatientCharacteristic,  // X, or K with the Retain Patient Characteristics option
  kPatientCharacteristicEmpty,  // Z, or K with that option
};

struct Rule {
  uint16_t group;
  uint16_t element;
  Action action;
};

// Attributes removed or emptied, beyond the ones handled specially (patient name and
// id, accession number, dates, UIDs, person names, private attributes, curves and
// overlays).
constexpr Rule kRules[] = {
    {0x0008, 0x0080, Action::kRemove},  // Institution Name
    {0x0008, 0x0081, Action::kRemove},  // Institution Address
    {0x0008, 0x0082, Action::kRemove},  // Institution Code Sequence
    {0x0008, 0x0090, Action::kEmpty},   // Referring Physician's Name
    {0x0008, 0x0092, Action::kRemove},  // Referring Physician's Address
    {0x0008, 0x0094, Action::kRemove},  // Referring Physician's Telephone Numbers
    {0x0008, 0x0096, Action::kRemove},  // Referring Physician Identification Sequence
    {0x0008, 0x009C, Action::kRemove},  // Consulting Physician's Name
    {0x0008, 0x009D, Action::kRemove},  // Consulting Physician Identification Sequence
    {0x0008, 0x1010, Action::kRemove},  // Station Name
    {0x0008, 0x1030, Action::kRemove},  // Study Description
    {0x0008, 0x103E, Action::kRemove},  // Series Description
    {0x0008, 0x1040, Action::kRemove},  // Institutional Department Name
    {0x0008, 0x1041, Action::kRemove},  // Institutional Department Type Code Sequence
    {0x0008, 0x1048, Action::kRemove},  // Physician(s) of Record
    {0x0008, 0x1049, Action::kRemove},  // Physician(s) of Record Identification Sequence
    {0x0008, 0x1050, Action::kRemove},  // Performing Physician's Name
    {0x0008, 0x1052, Action::kRemove},  // Performing Physician Identification Sequence
    {0x0008, 0x1060, Action::kRemove},  // Name of Physician(s) Reading Study
    {0x0008, 0x1062, Action::kRemove},  // Physician(s) Reading Study Identification Seq.
    {0x0008, 0x1070, Action::kRemove},  // Operators' Name
    {0x0008, 0x1072, Action::kRemove},  // Operator Identification Sequence
    {0x0008, 0x1080, Action::kRemove},  // Admitting Diagnoses Description
    {0x0008, 0x1084, Action::kRemove},  // Admitting Diagnoses Code Sequence
    {0x0008, 0x1120, Action::kRemove},  // Referenced Patient Sequence
    {0x0008, 0x2111, Action::kRemove},  // Derivation Description
    {0x0008, 0x4000, Action::kRemove},  // Identifying Comments
    {0x0008, 0x0050, Action::kEmpty},   // Accession Number (top level: a pseudonym)
    {0x0010, 0x0020, Action::kEmpty},   // Patient ID (top level: a pseudonym)
    {0x0010, 0x0021, Action::kRemove},  // Issuer of Patient ID
    {0x0010, 0x0024, Action::kRemove},  // Issuer of Patient ID Qualifiers Sequence
    {0x0010, 0x0030, Action::kEmpty},   // Patient's Birth Date
    {0x0010, 0x0032, Action::kRemove},  // Patient's Birth Time
    {0x0010, 0x0040, Action::kPatientCharacteristicEmpty},  // Patient's Sex
    {0x0010, 0x0050, Action::kRemove},  // Patient's Insurance Plan Code Sequence
    {0x0010, 0x0101, Action::kRemove},  // Patient's Primary Language Code Sequence
    {0x0010, 0x0102, Action::kRemove},  // Patient's Primary Language Modifier Code Seq.
    {0x0010, 0x1000, Action::kRemove},  // Other Patient IDs
    {0x0010, 0x1001, Action::kRemove},  // Other Patient Names
    {0x0010, 0x1002, Action::kRemove},  // Other Patient IDs Sequence
    {0x0010, 0x1005, Action::kRemove},  // Patient's Birth Name
    {0x0010, 0x1010, Action::kPatientCharacteristic},  // Patient's Age
    {0x0010, 0x1020, Action::kPatientCharacteristic},  // Patient's Size
    {0x0010, 0x1030, Action::kPatientCharacteristic},  // Patient's Weight
    {0x0010, 0x1040, Action::kRemove},  // Patient's Address
    {0x0010, 0x1050, Action::kRemove},  // Insurance Plan Identification
    {0x0010, 0x1060, Action::kRemove},  // Patient's Mother's Birth Name
    {0x0010, 0x1080, Action::kRemove},  // Military Rank
    {0x0010, 0x1081, Action::kRemove},  // Branch of Service
    {0x0010, 0x1090, Action::kRemove},  // Medical Record Locator
    {0x0010, 0x1100, Action::kRemove},  // Referenced Patient Photo Sequence
    {0x0010, 0x2000, Action::kRemove},  // Medical Alerts
    {0x0010, 0x2110, Action::kRemove},  // Allergies
    {0x0010, 0x2150, Action::kRemove},  // Country of Residence
    {0x0010, 0x2152, Action::kRemove},  // Region of Residence
    {0x0010, 0x2154, Action::kRemove},  // Patient's Telephone Numbers
    {0x0010, 0x2155, Action::kRemove},  // Patient's Telecom Information
    {0x0010, 0x2160, Action::kRemove},  // Ethnic Group
    {0x0010, 0x2180, Action::kRemove},  // Occupation
    {0x0010, 0x21A0, Action::kRemove},  // Smoking Status
    {0x0010, 0x21B0, Action::kRemove},  // Additional Patient History
    {0x0010, 0x21C0, Action::kRemove},  // Pregnancy Status
    {0x0010, 0x21D0, Action::kRemove},  // Last Menstrual Date
    {0x0010, 0x21F0, Action::kRemove},  // Patient's Religious Preference
    {0x0010, 0x2203, Action::kPatientCharacteristic},  // Patient's Sex Neutered
    {0x0010, 0x2297, Action::kRemove},  // Responsible Person
    {0x0010, 0x2299, Action::kRemove},  // Responsible Organization
    {0x0010, 0x4000, Action::kRemove},  // Patient Comments
    {0x0018, 0x1000, Action::kRemove},  // Device Serial Number
    {0x0018, 0x1004, Action::kRemove},  // Plate ID
    {0x0018, 0x1005, Action::kRemove},  // Generator ID
    {0x0018, 0x1007, Action::kRemove},  // Cassette ID
    {0x0018, 0x1008, Action::kRemove},  // Gantry ID
    {0x0018, 0x1030, Action::kRemove},  // Protocol Name
    {0x0018, 0x1400, Action::kRemove},  // Acquisition Device Processing Description
    {0x0018, 0x4000, Action::kRemove},  // Acquisition Comments
    {0x0018, 0x700A, Action::kRemove},  // Detector ID
    {0x0018, 0x9424, Action::kRemove},  // Acquisition Protocol Description
    {0x0018, 0xA003, Action::kRemove},  // Contribution Description
    {0x0020, 0x0010, Action::kEmpty},   // Study ID
    {0x0020, 0x3401, Action::kRemove},  // Modifying Device ID
    {0x0020, 0x3404, Action::kRemove},  // Modifying Device Manufacturer
    {0x0020, 0x3406, Action::kRemove},  // Modified Image Description
    {0x0020, 0x4000, Action::kRemove},  // Image Comments
    {0x0020, 0x9158, Action::kRemove},  // Frame Comments
    {0x0028, 0x4000, Action::kRemove},  // Image Presentation Comments
    {0x0032, 0x0012, Action::kRemove},  // Study ID Issuer
    {0x0032, 0x1020, Action::kRemove},  // Scheduled Study Location
    {0x0032, 0x1021, Action::kRemove},  // Scheduled Study Location AE Title
    {0x0032, 0x1030, Action::kRemove},  // Reason for Study
    {0x0032, 0x1032, Action::kRemove},  // Requesting Physician
    {0x0032, 0x1033, Action::kRemove},  // Requesting Service
    {0x0032, 0x1060, Action::kRemove},  // Requested Procedure Description
    {0x0032, 0x1070, Action::kRemove},  // Requested Contrast Agent
    {0x0032, 0x4000, Action::kRemove},  // Study Comments
    {0x0038, 0x0010, Action::kRemove},  // Admission ID
    {0x0038, 0x0011, Action::kRemove},  // Issuer of Admission ID
    {0x0038, 0x0014, Action::kRemove},  // Issuer of Admission ID Sequence
    {0x0038, 0x001E, Action::kRemove},  // Scheduled Patient Institution Residence
    {0x0038, 0x0040, Action::kRemove},  // Discharge Diagnosis Description
    {0x0038, 0x0060, Action::kRemove},  // Service Episode ID
    {0x0038, 0x0061, Action::kRemove},  // Issuer of Service Episode ID
    {0x0038, 0x0062, Action::kRemove},  // Service Episode Description
    {0x0038, 0x0300, Action::kRemove},  // Current Patient Location
    {0x0038, 0x0400, Action::kRemove},  // Patient's Institution Residence
    {0x0038, 0x0500, Action::kRemove},  // Patient State
    {0x0038, 0x4000, Action::kRemove},  // Visit Comments
    {0x0040, 0x0001, Action::kRemove},  // Scheduled Station AE Title
    {0x0040, 0x0006, Action::kRemove},  // Scheduled Performing Physician's Name
    {0x0040, 0x0007, Action::kRemove},  // Scheduled Procedure Step Description
    {0x0040, 0x0009, Action::kRemove},  // Scheduled Procedure Step ID
    {0x0040, 0x0010, Action::kRemove},  // Scheduled Station Name
    {0x0040, 0x0011, Action::kRemove},  // Scheduled Procedure Step Location
    {0x0040, 0x000B, Action::kRemove},  // Scheduled Performing Physician Identification Sequence
    {0x0040, 0x0012, Action::kRemove},  // Pre-Medication
    {0x0040, 0x0241, Action::kRemove},  // Performed Station AE Title
    {0x0040, 0x0242, Action::kRemove},  // Performed Station Name
    {0x0040, 0x0243, Action::kRemove},  // Performed Location
    {0x0040, 0x0253, Action::kRemove},  // Performed Procedure Step ID
    {0x0040, 0x0254, Action::kRemove},  // Performed Procedure Step Description
    {0x0040, 0x0275, Action::kRemove},  // Request Attributes Sequence
    {0x0040, 0x0280, Action::kRemove},  // Comments on the Performed Procedure Step
    {0x0040, 0x0555, Action::kRemove},  // Acquisition Context Sequence
    {0x0040, 0x1001, Action::kRemove},  // Requested Procedure ID
    {0x0040, 0x1004, Action::kRemove},  // Patient Transport Arrangements
    {0x0040, 0x1005, Action::kRemove},  // Requested Procedure Location
    {0x0040, 0x1010, Action::kRemove},  // Names of Intended Recipients of Results
    {0x0040, 0x1011, Action::kRemove},  // Intended Recipients of Results Identification Seq.
    {0x0040, 0x1101, Action::kRemove},  // Person Identification Code Sequence (D, removed here)
    {0x0040, 0x1102, Action::kRemove},  // Person's Address
    {0x0040, 0x1103, Action::kRemove},  // Person's Telephone Numbers
    {0x0040, 0x1400, Action::kRemove},  // Requested Procedure Comments
    {0x0040, 0x2001, Action::kRemove},  // Reason for the Imaging Service Request
    {0x0040, 0x2008, Action::kRemove},  // Order Entered By
    {0x0040, 0x2009, Action::kRemove},  // Order Enterer's Location
    {0x0040, 0x2010, Action::kRemove},  // Order Callback Phone Number
    {0x0040, 0x2016, Action::kRemove},  // Placer Order Number / Imaging Service Request
    {0x0040, 0x2017, Action::kRemove},  // Filler Order Number / Imaging Service Request
    {0x0040, 0x2400, Action::kRemove},  // Imaging Service Request Comments
    {0x0040, 0x3001, Action::kRemove},  // Confidentiality Constraint on Patient Data Description
    {0x0040, 0x4025, Action::kRemove},  // Scheduled Station Name Code Sequence
    {0x0040, 0x4027, Action::kRemove},  // Scheduled Station Geographic Location Code Sequence
    {0x0040, 0x4028, Action::kRemove},  // Performed Station Name Code Sequence
    {0x0040, 0x4030, Action::kRemove},  // Performed Station Geographic Location Code Sequence
    {0x0040, 0x4034, Action::kRemove},  // Scheduled Human Performers Sequence
    {0x0040, 0x4035, Action::kRemove},  // Actual Human Performers Sequence
    {0x0040, 0x4036, Action::kRemove},  // Human Performer's Organization
    {0x0040, 0x4037, Action::kRemove},  // Human Performer's Name
    {0x0040, 0xA027, Action::kRemove},  // Verifying Organization
    {0x0040, 0xA073, Action::kRemove},  // Verifying Observer Sequence
    {0x0040, 0xA075, Action::kRemove},  // Verifying Observer Name
    {0x0040, 0xA078, Action::kRemove},  // Author Observer Sequence
    {0x0040, 0xA07A, Action::kRemove},  // Participant Sequence
    {0x0040, 0xA07C, Action::kRemove},  // Custodial Organization Sequence
    {0x0040, 0xA088, Action::kRemove},  // Verifying Observer Identification Code Sequence
    {0x0040, 0xA123, Action::kRemove},  // Person Name
    {0x0040, 0xA730, Action::kRemove},  // Content Sequence
    {0x0070, 0x0084, Action::kRemove},  // Content Creator's Name
    {0x0070, 0x0086, Action::kRemove},  // Content Creator's Identification Code Sequence
    {0x0088, 0x0200, Action::kRemove},  // Icon Image Sequence
    {0x0400, 0x0561, Action::kRemove},  // Original Attributes Sequence
    {0x4000, 0x0010, Action::kRemove},  // Arbitrary
    {0x4000, 0x4000, Action::kRemove},  // Text Comments
    {0x4008, 0x0042, Action::kRemove},  // Results ID Issuer
    {0x4008, 0x0102, Action::kRemove},  // Interpretation Recorder
    {0x4008, 0x010A, Action::kRemove},  // Interpretation Transcriber
    {0x4008, 0x010B, Action::kRemove},  // Interpretation Text
    {0x4008, 0x010C, Action::kRemove},  // Interpretation Author
    {0x4008, 0x0111, Action::kRemove},  // Interpretation Approver Sequence
    {0x4008, 0x0114, Action::kRemove},  // Physician Approving Interpretation
    {0x4008, 0x0115, Action::kRemove},  // Interpretation Diagnosis Description
    {0x4008, 0x0118, Action::kRemove},  // Results Distribution List Sequence
    {0x4008, 0x0119, Action::kRemove},  // Distribution Name
    {0x4008, 0x011A, Action::kRemove},  // Distribution Address
    {0x4008, 0x0202, Action::kRemove},  // Interpretation ID Issuer
    {0x4008, 0x0300, Action::kRemove},  // Impressions
    {0x4008, 0x4000, Action::kRemove},  // Results Comments
    {0xFFFA, 0xFFFA, Action::kRemove},  // Digital Signatures Sequence
};

bool IsEmptiedByRule(const DcmTagKey& tag) {
  for (const Rule& rule : kRules) {
    if (rule.group == tag.getGroup() && rule.element == tag.getElement()) {
      return rule.action == Action::kEmpty;
    }
  }
  return false;
}

// UIDs that name a class or scheme rather than an instance; they stay as they are even
// when they are private (outside 1.2.840.10008).
const std::set<DcmTagKey>& KeptUidTags() {
  static const auto* tags = new std::set<DcmTagKey>{
      DcmTagKey(0x0002, 0x0002),  // Media Storage SOP Class UID
      DcmTagKey(0x0002, 0x0010),  // Transfer Syntax UID
      DcmTagKey(0x0002, 0x0012),  // Implementation Class UID
      DcmTagKey(0x0002, 0x0102),  // Private Information Creator UID
      DcmTagKey(0x0004, 0x1510),  // Referenced SOP Class UID in File
      DcmTagKey(0x0004, 0x1512),  // Referenced Transfer Syntax UID in File
      DcmTagKey(0x0008, 0x0016),  // SOP Class UID
      DcmTagKey(0x0008, 0x001A),  // Related General SOP Class UID
      DcmTagKey(0x0008, 0x001B),  // Original Specialized SOP Class UID
      DcmTagKey(0x0008, 0x0062),  // SOP Classes in Study
      DcmTagKey(0x0008, 0x010C),  // Coding Scheme UID
      DcmTagKey(0x0008, 0x010D),  // Context Group Extension Creator UID
      DcmTagKey(0x0008, 0x0118),  // Mapping Resource UID
      DcmTagKey(0x0008, 0x1150),  // Referenced SOP Class UID
      DcmTagKey(0x0008, 0x115A),  // SOP Classes Supported
      DcmTagKey(0x0040, 0xDB0C),  // Template Extension Organization UID
      DcmTagKey(0x0040, 0xDB0D),  // Template Extension Creator UID
  };
  return *tags;
}

// State of one de-identification pass.
class Deidentifier {
 public:
  Deidentifier(const DeidentifyOptions& options, DeidentifyResult* result)
      : options_(options), result_(result) {}

  // Applies every rule to `item` and, recursively, to its sequences.
  void CleanItem(DcmItem* item, bool top_level) {
    std::vector<DcmTagKey> to_remove;
    for (unsigned long i = 0; i < item->card(); ++i) {
      DcmElement* element = item->getElement(i);
      DcmTagKey tag = element->getTag().getXTag();
      uint16_t group = tag.getGroup();
      uint16_t number = tag.getElement();

      // Private attributes, curves (50xx) and overlay data and comments (60xx).
      bool curve = (group & 0xFF00) == 0x5000;
      bool overlay = (group & 0xFF00) == 0x6000 && (number == 0x3000 || number == 0x4000);
      if (tag.isPrivate() || curve || overlay) {
        to_remove.push_back(tag);
        continue;
      }
      // Patient's Name is replaced at the top level, the table empties some names, and
      // any other person name goes.
      if (element->ident() == EVR_PN && !(top_level && tag == DCM_PatientName) &&
          !IsEmptiedByRule(tag)) {
        to_remove.push_back(tag);
        continue;
      }
      if (element->ident() == EVR_SQ) {
        auto* sequence = static_cast<DcmSequenceOfItems*>(element);
        for (unsigned long j = 0; j < sequence->card(); ++j) CleanItem(sequence->getItem(j), false);
        continue;
      }
      if (element->ident() == EVR_UI) ReplaceUids(element, tag);
      if (element->ident() == EVR_DA) ShiftDates(element, /*date_time=*/false);
      if (element->ident() == EVR_DT) ShiftDates(element, /*date_time=*/true);
    }
    for (const DcmTagKey& tag : to_remove) {
      if (item->findAndDeleteElement(tag).good()) ++result_->removed_attributes;
    }

    // The table of the profile, at every level.
    for (const Rule& rule : kRules) {
      DcmTagKey tag(rule.group, rule.element);
      if (!item->tagExists(tag)) continue;
      Action action = rule.action;
      if (options_.retain_patient_characteristics &&
          (action == Action::kPatientCharacteristic ||
           action == Action::kPatientCharacteristicEmpty)) {
        continue;
      }
      if (action == Action::kEmpty || action == Action::kPatientCharacteristicEmpty) {
        item->putAndInsertString(tag, "");
      } else {
        item->findAndDeleteElement(tag);
      }
      ++result_->removed_attributes;
    }
  }

  void set_date_shift(int days) { date_shift_days_ = days; }

 private:
  void ReplaceUids(DcmElement* element, const DcmTagKey& tag) {
    if (KeptUidTags().count(tag) > 0) return;
    OFString value;
    if (element->getOFStringArray(value).bad() || value.empty()) return;
    std::vector<std::string> out;
    for (absl::string_view uid : absl::StrSplit(absl::string_view(value.c_str()), '\\')) {
      std::string trimmed(absl::StripAsciiWhitespace(uid));
      // Trailing NUL padding of UI values.
      while (!trimmed.empty() && trimmed.back() == '\0') trimmed.pop_back();
      if (trimmed.empty() || absl::StartsWith(trimmed, "1.2.840.10008.")) {
        out.push_back(trimmed);
      } else {
        out.push_back(PseudonymousUid(options_.secret_key, trimmed));
      }
    }
    element->putString(absl::StrJoin(out, "\\").c_str());
  }

  void ShiftDates(DcmElement* element, bool date_time) {
    OFString value;
    if (element->getOFStringArray(value).bad() || value.empty()) return;
    std::vector<std::string> out;
    for (absl::string_view part : absl::StrSplit(absl::string_view(value.c_str()), '\\')) {
      std::string text(absl::StripAsciiWhitespace(part));
      std::string date = text.substr(0, 8);
      std::string rest = date_time && text.size() > 8 ? text.substr(8) : "";
      int year = 0, month = 0, day = 0;
      bool valid = date.size() == 8 && absl::SimpleAtoi(date.substr(0, 4), &year) &&
                   absl::SimpleAtoi(date.substr(4, 2), &month) &&
                   absl::SimpleAtoi(date.substr(6, 2), &day) &&
                   std::all_of(date.begin(), date.end(), absl::ascii_isdigit);
      absl::CivilDay civil(year, month, day);
      if (!valid || civil.month() != month || civil.day() != day) {
        // A date that cannot be shifted could still identify: drop it.
        out.push_back("");
        continue;
      }
      civil -= date_shift_days_;
      out.push_back(absl::StrCat(absl::FormatCivilTime(civil).substr(0, 4),
                                 absl::FormatCivilTime(civil).substr(5, 2),
                                 absl::FormatCivilTime(civil).substr(8, 2), rest));
    }
    element->putString(absl::StrJoin(out, "\\").c_str());
  }

  const DeidentifyOptions& options_;
  DeidentifyResult* result_;
  int date_shift_days_ = 0;
};

// Adds one item to the De-identification Method Code Sequence.
void AddMethodCode(DcmDataset& dataset, long index, const char* value, const char* meaning) {
  DcmItem* item = nullptr;
  if (dataset.findOrCreateSequenceItem(DcmTagKey(0x0012, 0x0064), item, index).bad()) return;
  item->putAndInsertString(DCM_CodeValue, value);
  item->putAndInsertString(DCM_CodingSchemeDesignator, "DCM");
  item->putAndInsertString(DCM_CodeMeaning, meaning);
}

}  // namespace

std::string PatientPseudonym(absl::string_view secret_key, absl::string_view original_patient_key) {
  Digest digest = Hmac(secret_key, absl::StrCat("patient:", original_patient_key));
  return absl::StrCat("anon-", Hex(digest.data(), 8));
}

std::string PseudonymousUid(absl::string_view secret_key, absl::string_view uid) {
  Digest digest = Hmac(secret_key, absl::StrCat("uid:", uid));
  // 128 bits shaped as a version 8 (custom) UUID, as "2.25." UIDs are UUIDs written
  // as one decimal integer (ITU-T X.667).
  digest[6] = static_cast<uint8_t>((digest[6] & 0x0F) | 0x80);
  digest[8] = static_cast<uint8_t>((digest[8] & 0x3F) | 0x80);
  unsigned __int128 value = 0;
  for (int i = 0; i < 16; ++i) value = (value << 8) | digest[i];
  std::string decimal;
  while (value > 0) {
    decimal.insert(decimal.begin(), static_cast<char>('0' + static_cast<int>(value % 10)));
    value /= 10;
  }
  if (decimal.empty()) decimal = "0";
  return absl::StrCat("2.25.", decimal);
}

absl::StatusOr<DeidentifyResult> DeidentifyInPlace(DicomObject& object,
                                                   const DeidentifyOptions& options) {
  if (options.secret_key.size() < 16) {
    return InvalidArgument("INVALID_DEIDENTIFICATION_KEY", "secret_key",
                           "the de-identification key must be at least 16 bytes long; set the "
                           "deployment's key");
  }
  if (options.max_date_shift_days < 0 || options.max_date_shift_days > 36500) {
    return InvalidArgument("INVALID_DATE_SHIFT", "max_date_shift_days",
                           absl::StrCat("maximum date shift ", options.max_date_shift_days,
                                        " is invalid; use 0 to 36500 days"));
  }
  DicomObject::Impl& impl = object.impl();
  DcmDataset& dataset = impl.dataset();
  const DicomHeader original = impl.header;

  DeidentifyResult result;
  result.burned_in_annotation = original.burned_in_annotation;

  // The patient key: the id, else name and birth date, else the study.
  std::string patient_key;
  if (!original.patient_id.empty()) {
    patient_key = absl::StrCat("id:", original.patient_id);
  } else if (!original.patient_name.empty()) {
    patient_key = absl::StrCat("name:", original.patient_name, "|", original.patient_birth_date);
  } else {
    patient_key = absl::StrCat("study:", original.study_instance_uid);
  }
  result.patient_pseudonym = PatientPseudonym(options.secret_key, patient_key);
  if (options.max_date_shift_days > 0) {
    Digest digest = Hmac(options.secret_key, absl::StrCat("date-shift:", patient_key));
    uint32_t bits = (uint32_t{digest[0]} << 24) | (uint32_t{digest[1]} << 16) |
                    (uint32_t{digest[2]} << 8) | digest[3];
    result.date_shift_days = 1 + static_cast<int>(bits % options.max_date_shift_days);
  }

  // Read before the rules empty it.
  std::string original_accession = internal::GetString(&dataset, DCM_AccessionNumber);

  // Everything the profile removes, and the UIDs and dates it replaces.
  Deidentifier deidentifier(options, &result);
  deidentifier.set_date_shift(result.date_shift_days);
  deidentifier.CleanItem(&dataset, /*top_level=*/true);

  // Identifiers replaced by pseudonyms.
  dataset.putAndInsertString(DCM_PatientID, result.patient_pseudonym.c_str());
  dataset.putAndInsertString(DCM_PatientName, result.patient_pseudonym.c_str());
  if (!original_accession.empty()) {
    Digest digest = Hmac(options.secret_key, absl::StrCat("accession:", original_accession));
    std::string accession_pseudonym = Hex(digest.data(), 8);
    dataset.putAndInsertString(DCM_AccessionNumber, accession_pseudonym.c_str());
    result.mappings.push_back({"accession_number", original_accession, accession_pseudonym});
  }

  // The file meta group carries the SOP Instance UID too.
  DcmMetaInfo* meta = impl.file.getMetaInfo();
  std::string media_uid = internal::GetString(meta, DCM_MediaStorageSOPInstanceUID);
  if (!media_uid.empty()) {
    meta->putAndInsertString(DCM_MediaStorageSOPInstanceUID,
                             PseudonymousUid(options.secret_key, media_uid).c_str());
  }

  // File meta attributes that name the sending and receiving systems (their AE titles
  // often equal the Station Name removed above, and presentation addresses name
  // hosts) or carry private data of unknown content are removed. DCMTK 3.6.7 does not
  // add them back when it writes the file.
  for (uint16_t element : {uint16_t{0x0016},    // Source Application Entity Title
                           uint16_t{0x0017},    // Sending Application Entity Title
                           uint16_t{0x0018},    // Receiving Application Entity Title
                           uint16_t{0x0026},    // Source Presentation Address
                           uint16_t{0x0027},    // Sending Presentation Address
                           uint16_t{0x0028},    // Receiving Presentation Address
                           uint16_t{0x0033},    // RTV Source Identifier
                           uint16_t{0x0100},    // Private Information Creator UID
                           uint16_t{0x0102}}) {  // Private Information
    meta->findAndDeleteElement(DcmTagKey(0x0002, element));
  }

  // Markers of the method used.
  dataset.putAndInsertString(DCM_PatientIdentityRemoved, "YES");
  std::string method = "AI-LAB: PS3.15 Basic Application Confidentiality Profile";
  if (result.date_shift_days > 0) absl::StrAppend(&method, ", dates shifted");
  dataset.putAndInsertString(DCM_DeidentificationMethod, method.c_str());
  dataset.findAndDeleteElement(DcmTagKey(0x0012, 0x0064));
  long code = 0;
  AddMethodCode(dataset, code++, "113100", "Basic Application Confidentiality Profile");
  if (result.date_shift_days > 0) {
    AddMethodCode(dataset, code++, "113107",
                  "Retain Longitudinal Temporal Information Modified Dates Option");
  }
  if (options.retain_patient_characteristics) {
    AddMethodCode(dataset, code++, "113108", "Retain Patient Characteristics Option");
  }
  dataset.putAndInsertString(DCM_LongitudinalTemporalInformationModified,
                             result.date_shift_days > 0 ? "MODIFIED" : "UNMODIFIED");

  AILAB_RETURN_IF_ERROR(internal::RefreshHeader(impl));

  // The mapping for the administrator's table.
  result.mappings.push_back({"patient_id", original.patient_id, result.patient_pseudonym});
  result.mappings.push_back({"patient_name", original.patient_name, result.patient_pseudonym});
  if (!original.patient_birth_date.empty()) {
    result.mappings.push_back({"patient_birth_date", original.patient_birth_date, ""});
  }
  result.mappings.push_back(
      {"study_instance_uid", original.study_instance_uid, impl.header.study_instance_uid});
  result.mappings.push_back(
      {"series_instance_uid", original.series_instance_uid, impl.header.series_instance_uid});
  result.mappings.push_back(
      {"sop_instance_uid", original.sop_instance_uid, impl.header.sop_instance_uid});
  return result;
}

}  // namespace ailab::dicom
