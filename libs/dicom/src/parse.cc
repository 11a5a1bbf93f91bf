// Parsing of DICOM files from memory, header extraction and serialisation.
#include <algorithm>
#include <cstring>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "ailab/dicom/dicom.h"
#include "ailab/status/status.h"
#include "dcmtk/dcmdata/dcistrmb.h"
#include "dcmtk/dcmdata/dcostrmb.h"
#include "dcmtk/dcmdata/dcpixseq.h"
#include "dcmtk/dcmdata/dcrledrg.h"
#include "dcmtk/dcmjpeg/djdecode.h"
#include "dcmtk/dcmjpls/djdecode.h"
#include "dcmtk/oflog/oflog.h"
#include "internal.h"

namespace ailab::dicom {
namespace internal {
namespace {

absl::Status* InitializeOnce() {
  // DCMTK's codecs and dictionary are process-wide; they are set up once and never torn
  // down, because deregistering while another thread decodes is not safe.
  auto* status = new absl::Status();
  OFLog::configure(OFLogger::OFF_LOG_LEVEL);
  DJDecoderRegistration::registerCodecs(EDC_photometricInterpretation, EUC_default,
                                        EPC_colorByPixel);
  DJLSDecoderRegistration::registerCodecs(EJLSUC_default, EJLSPC_colorByPixel);
  DcmRLEDecoderRegistration::registerCodecs();
  if (!dcmDataDict.isDictionaryLoaded()) {
    *status = Internal("DICOM_DICTIONARY_MISSING",
                       "the DCMTK data dictionary is not loaded; install the dcmtk data files "
                       "or set DCMDICTPATH to the dicom.dic file");
  }
  return status;
}

}  // namespace

absl::Status InitializeDcmtk() {
  static absl::Status* status = InitializeOnce();
  return *status;
}

absl::Status BadDicom(absl::string_view source, absl::string_view reason,
                      absl::string_view message) {
  return InvalidArgument(reason, "", absl::StrCat(source, ": ", message), {{"file", source}});
}

std::string GetString(DcmItem* item, const DcmTagKey& tag) {
  if (item == nullptr) return "";
  OFString value;
  if (item->findAndGetOFStringArray(tag, value).bad()) return "";
  return std::string(absl::StripAsciiWhitespace(absl::string_view(value.c_str(), value.length())));
}

DcmItem* GetSequenceItem(DcmItem* item, const DcmTagKey& tag, unsigned long index) {
  if (item == nullptr) return nullptr;
  DcmItem* found = nullptr;
  if (item->findAndGetSequenceItem(tag, found, static_cast<int>(index)).bad()) return nullptr;
  return found;
}

DcmItem* FindFunctionalGroup(DcmItem* dataset, int frame, const DcmTagKey& sequence) {
  DcmItem* per_frame = GetSequenceItem(dataset, DCM_PerFrameFunctionalGroupsSequence, frame);
  if (DcmItem* item = GetSequenceItem(per_frame, sequence)) return item;
  DcmItem* shared = GetSequenceItem(dataset, DCM_SharedFunctionalGroupsSequence);
  return GetSequenceItem(shared, sequence);
}

namespace {

// Reads an unsigned short attribute; 0 when absent.
int GetUint16(DcmItem* item, const DcmTagKey& tag) {
  Uint16 value = 0;
  if (item->findAndGetUint16(tag, value).bad()) return 0;
  return value;
}

std::string NormalizeLaterality(std::string value) {
  value = absl::AsciiStrToUpper(value);
  if (value == "L" || value == "R" || value == "B" || value == "U") return value;
  return "";
}

// Abbreviates a mammography view from the meaning of its View Code Sequence item,
// following the code meanings of DICOM CID 4014 (View for Mammography).
std::string ViewFromCodeMeaning(const std::string& meaning) {
  std::string m = absl::AsciiStrToLower(meaning);
  auto has = [&](const char* word) { return m.find(word) != std::string::npos; };
  if (has("exaggerated") && has("lateral")) return "XCCL";
  if (has("exaggerated") && has("medial")) return "XCCM";
  if (has("cranio-caudal") || has("craniocaudal")) return "CC";
  if (has("caudo-cranial")) return "FB";
  if (has("medio-lateral oblique") || has("mediolateral oblique")) return "MLO";
  if (has("latero-medial oblique") || has("lateromedial oblique")) return "LMO";
  if (has("medio-lateral") || has("mediolateral")) return "ML";
  if (has("latero-medial") || has("lateromedial")) return "LM";
  if (has("lateral")) return "LATERAL";
  if (has("postero-anterior") || has("posteroanterior")) return "PA";
  if (has("antero-posterior") || has("anteroposterior")) return "AP";
  return absl::AsciiStrToUpper(meaning);
}

// Converts YYYYMMDD to YYYY-MM-DD when it is a valid calendar date.
std::string IsoDate(const std::string& da) {
  if (da.size() != 8 || !std::all_of(da.begin(), da.end(), absl::ascii_isdigit)) return "";
  int year = 0, month = 0, day = 0;
  if (!absl::SimpleAtoi(da.substr(0, 4), &year) || !absl::SimpleAtoi(da.substr(4, 2), &month) ||
      !absl::SimpleAtoi(da.substr(6, 2), &day)) {
    return "";
  }
  absl::CivilDay civil(year, month, day);
  if (civil.year() != year || civil.month() != month || civil.day() != day) return "";
  return absl::StrCat(da.substr(0, 4), "-", da.substr(4, 2), "-", da.substr(6, 2));
}

// Parses "row\column" spacing; false when malformed or not positive.
bool ParseSpacing(const std::string& value, double* row, double* column) {
  std::vector<std::string> parts = absl::StrSplit(value, '\\');
  if (parts.size() != 2) return false;
  if (!absl::SimpleAtod(absl::StripAsciiWhitespace(parts[0]), row) ||
      !absl::SimpleAtod(absl::StripAsciiWhitespace(parts[1]), column)) {
    return false;
  }
  return *row > 0 && *column > 0;
}

void ReadDescriptiveFields(DcmDataset& dataset, DicomHeader& h) {
  h.sop_class_uid = GetString(&dataset, DCM_SOPClassUID);
  h.sop_instance_uid = GetString(&dataset, DCM_SOPInstanceUID);
  h.study_instance_uid = GetString(&dataset, DCM_StudyInstanceUID);
  h.series_instance_uid = GetString(&dataset, DCM_SeriesInstanceUID);
  h.patient_id = GetString(&dataset, DCM_PatientID);
  h.patient_name = GetString(&dataset, DCM_PatientName);
  h.patient_birth_date = GetString(&dataset, DCM_PatientBirthDate);
  h.study_date = GetString(&dataset, DCM_StudyDate);
  h.study_date_iso = IsoDate(h.study_date);
  h.modality = absl::AsciiStrToUpper(GetString(&dataset, DCM_Modality));
  h.manufacturer = GetString(&dataset, DCM_Manufacturer);
  h.model = GetString(&dataset, DCM_ManufacturerModelName);
  h.patient_orientation = GetString(&dataset, DCM_PatientOrientation);
  h.presentation_intent = absl::AsciiStrToUpper(GetString(&dataset, DCM_PresentationIntentType));
  h.burned_in_annotation = absl::AsciiStrToUpper(GetString(&dataset, DCM_BurnedInAnnotation));

  // Body part: the attribute, else the anatomic region code.
  h.body_part = absl::AsciiStrToUpper(GetString(&dataset, DCM_BodyPartExamined));
  if (h.body_part.empty()) {
    DcmItem* region = GetSequenceItem(&dataset, DCM_AnatomicRegionSequence);
    h.body_part = absl::AsciiStrToUpper(GetString(region, DCM_CodeMeaning));
  }

  // Laterality: of the image, of the body part, or of the frames.
  h.laterality = NormalizeLaterality(GetString(&dataset, DCM_ImageLaterality));
  if (h.laterality.empty()) h.laterality = NormalizeLaterality(GetString(&dataset, DCM_Laterality));
  if (h.laterality.empty()) {
    DcmItem* anatomy = FindFunctionalGroup(&dataset, 0, DCM_FrameAnatomySequence);
    h.laterality = NormalizeLaterality(GetString(anatomy, DCM_FrameLaterality));
  }

  // View: View Position, else the View Code Sequence.
  h.view = absl::AsciiStrToUpper(GetString(&dataset, DCM_ViewPosition));
  if (h.view.empty()) {
    DcmItem* view_code = GetSequenceItem(&dataset, DCM_ViewCodeSequence);
    std::string meaning = GetString(view_code, DCM_CodeMeaning);
    if (!meaning.empty()) h.view = ViewFromCodeMeaning(meaning);
  }

  // Pixel spacing: in the patient, at the detector, or in the functional groups.
  double row = 0, column = 0;
  if (ParseSpacing(GetString(&dataset, DCM_PixelSpacing), &row, &column)) {
    h.pixel_spacing_source = "PixelSpacing";
  } else if (ParseSpacing(GetString(&dataset, DCM_ImagerPixelSpacing), &row, &column)) {
    h.pixel_spacing_source = "ImagerPixelSpacing";
  } else if (ParseSpacing(
                 GetString(FindFunctionalGroup(&dataset, 0, DCM_PixelMeasuresSequence),
                           DCM_PixelSpacing),
                 &row, &column)) {
    h.pixel_spacing_source = "PixelMeasuresSequence";
  } else {
    row = column = 0;
  }
  h.pixel_spacing_row_mm = row;
  h.pixel_spacing_column_mm = column;
}

absl::Status ReadImagePixelModule(DicomObject::Impl& impl) {
  DcmDataset& dataset = impl.dataset();
  DicomHeader& h = impl.header;
  const std::string& source = impl.source;
  const ParseLimits& limits = impl.limits;

  h.has_pixel_data = dataset.tagExists(DCM_PixelData);
  if (!h.has_pixel_data) return absl::OkStatus();

  h.rows = GetUint16(&dataset, DCM_Rows);
  h.columns = GetUint16(&dataset, DCM_Columns);
  h.samples_per_pixel = GetUint16(&dataset, DCM_SamplesPerPixel);
  h.bits_allocated = GetUint16(&dataset, DCM_BitsAllocated);
  h.bits_stored = GetUint16(&dataset, DCM_BitsStored);
  h.high_bit = GetUint16(&dataset, DCM_HighBit);
  h.pixel_representation = GetUint16(&dataset, DCM_PixelRepresentation);
  h.planar_configuration = GetUint16(&dataset, DCM_PlanarConfiguration);
  h.photometric_interpretation =
      absl::AsciiStrToUpper(GetString(&dataset, DCM_PhotometricInterpretation));
  if (h.samples_per_pixel == 0) h.samples_per_pixel = 1;

  // Number of Frames is an integer string; absent means one frame.
  std::string frames_text = GetString(&dataset, DCM_NumberOfFrames);
  h.frames = 1;
  if (!frames_text.empty() && (!absl::SimpleAtoi(frames_text, &h.frames) || h.frames < 1)) {
    return BadDicom(source, "INVALID_NUMBER_OF_FRAMES",
                    absl::StrCat("Number of Frames (0028,0008) is \"", frames_text,
                                 "\", not a positive integer"));
  }

  // The image pixel module must describe a frame this library can hold.
  if (h.rows < 1 || h.columns < 1 || h.rows > limits.max_extent ||
      h.columns > limits.max_extent) {
    return BadDicom(source, "INVALID_IMAGE_SIZE",
                    absl::StrCat("Rows x Columns is ", h.rows, " x ", h.columns,
                                 "; both must be 1 to ", limits.max_extent));
  }
  if (h.frames > limits.max_frames) {
    return BadDicom(source, "TOO_MANY_FRAMES",
                    absl::StrCat("Number of Frames is ", h.frames, ", above the limit of ",
                                 limits.max_frames));
  }
  if (h.bits_allocated != 1 && h.bits_allocated != 8 && h.bits_allocated != 16 &&
      h.bits_allocated != 32) {
    return BadDicom(source, "UNSUPPORTED_BITS_ALLOCATED",
                    absl::StrCat("Bits Allocated is ", h.bits_allocated,
                                 "; supported values are 1, 8, 16 and 32"));
  }
  if (h.bits_stored < 1 || h.bits_stored > h.bits_allocated ||
      h.high_bit >= h.bits_allocated || h.high_bit + 1 < h.bits_stored) {
    return BadDicom(source, "INVALID_BITS_STORED",
                    absl::StrCat("Bits Stored ", h.bits_stored, " and High Bit ", h.high_bit,
                                 " do not fit Bits Allocated ", h.bits_allocated));
  }
  if (h.samples_per_pixel != 1 && h.samples_per_pixel != 3) {
    return BadDicom(source, "UNSUPPORTED_SAMPLES_PER_PIXEL",
                    absl::StrCat("Samples per Pixel is ", h.samples_per_pixel,
                                 "; supported values are 1 and 3"));
  }
  if (h.photometric_interpretation.empty()) {
    return BadDicom(source, "MISSING_PHOTOMETRIC_INTERPRETATION",
                    "Photometric Interpretation (0028,0004) is missing");
  }
  int64_t frame_bytes = int64_t{h.rows} * h.columns * h.samples_per_pixel *
                        std::max(1, h.bits_allocated / 8);
  if (frame_bytes > limits.max_frame_bytes) {
    return BadDicom(source, "FRAME_TOO_LARGE",
                    absl::StrCat("one frame needs ", frame_bytes, " bytes, above the limit of ",
                                 limits.max_frame_bytes));
  }
  return absl::OkStatus();
}

// Reads `bytes` into `file`; returns DCMTK's condition text on failure. When
// `reached_end` is not null it is set to whether DCMTK consumed every byte, which
// after a failure means that the file ends inside an attribute.
OFCondition ReadFile(absl::string_view bytes, DcmFileFormat& file, bool* reached_end = nullptr) {
  DcmInputBufferStream stream;
  stream.setBuffer(bytes.data(), static_cast<offile_off_t>(bytes.size()));
  stream.setEos();
  file.transferInit();
  // Values up to 4 GiB are read into memory now, since the buffer is gone afterwards.
  OFCondition condition = file.read(stream, EXS_Unknown, EGL_noChange, 0xfffffffe);
  file.transferEnd();
  if (reached_end != nullptr) *reached_end = stream.eos() || stream.avail() == 0;
  if (condition.good()) condition = file.loadAllDataIntoMemory();
  return condition;
}

// True when `bytes` has the Part 10 preamble or DCMTK's partial read of them starts with
// a standard group (at most 0008, the group every image starts with), so that random
// bytes are not reported as a truncated file.
bool LooksLikeDicom(absl::string_view bytes, DcmFileFormat& file) {
  DcmDataset* dataset = file.getDataset();
  if (dataset->card() == 0) return false;
  if (bytes.size() >= 132 && bytes.substr(128, 4) == "DICM") return true;
  return dataset->getElement(0)->getTag().getGroup() <= 0x0008;
}

// Names the last attribute DCMTK read into `item`, following the last item of a
// trailing sequence, for example "(0300,00B0) > (300A,0111)". Tags only, because
// values can be protected health information.
std::string LastAttributePath(DcmItem* item) {
  std::string path;
  for (int depth = 0; item != nullptr && item->card() > 0 && depth < 16; ++depth) {
    DcmElement* element = item->getElement(item->card() - 1);
    const DcmTag& tag = element->getTag();
    std::string tag_text = absl::StrCat(absl::Hex(tag.getGroup(), absl::kZeroPad4), ",",
                                        absl::Hex(tag.getElement(), absl::kZeroPad4));
    absl::StrAppend(&path, path.empty() ? "" : " > ", "(", absl::AsciiStrToUpper(tag_text), ")");
    if (element->ident() != EVR_SQ) break;
    auto* sequence = static_cast<DcmSequenceOfItems*>(element);
    if (sequence->card() == 0) break;
    item = sequence->getItem(sequence->card() - 1);
  }
  return path;
}

bool HasPreamble(absl::string_view bytes) {
  return bytes.size() >= 132 && bytes.substr(128, 4) == "DICM";
}

// A bare data set sometimes starts with a few stray bytes, such as the last byte of a
// removed file meta group. Returns the offset (1 to 3) of the first plausible element
// of group 0008 (little endian), or 0.
size_t FindLateDataSetStart(absl::string_view bytes) {
  for (size_t offset = 1; offset <= 3 && offset + 8 <= bytes.size(); ++offset) {
    if (bytes[offset] == 0x08 && bytes[offset + 1] == 0x00 &&
        static_cast<uint8_t>(bytes[offset + 3]) == 0x00) {
      return offset;
    }
  }
  return 0;
}

}  // namespace

absl::Status RefreshHeader(DicomObject::Impl& impl) {
  DicomHeader h;
  DcmDataset& dataset = impl.dataset();
  DcmXfer xfer(dataset.getOriginalXfer());
  h.transfer_syntax_uid = xfer.getXferID();
  h.transfer_syntax_name = xfer.getXferName();
  h.encapsulated = xfer.isEncapsulated();
  // DCMTK 3.6.7 does not know the HTJ2K syntaxes (2.4.201 to .203): it reads such a
  // data set as explicit VR little endian, which it is, and the meta group names the
  // real syntax.
  std::string meta_syntax = GetString(impl.file.getMetaInfo(), DCM_TransferSyntaxUID);
  if (IsJpeg2000(meta_syntax) && meta_syntax != h.transfer_syntax_uid) {
    h.transfer_syntax_uid = meta_syntax;
    h.transfer_syntax_name = absl::StrCat("JPEG 2000 (", meta_syntax, ")");
    h.encapsulated = true;
  }
  ReadDescriptiveFields(dataset, h);
  std::vector<std::string> warnings = std::move(impl.header.parse_warnings);
  impl.header = std::move(h);
  impl.header.parse_warnings = std::move(warnings);
  return ReadImagePixelModule(impl);
}

}  // namespace internal

DicomObject::DicomObject(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DicomObject::DicomObject(DicomObject&&) noexcept = default;
DicomObject& DicomObject::operator=(DicomObject&&) noexcept = default;
DicomObject::~DicomObject() = default;

const DicomHeader& DicomObject::header() const { return impl_->header; }
const std::string& DicomObject::source() const { return impl_->source; }
const ParseLimits& DicomObject::limits() const { return impl_->limits; }

std::string DicomObject::GetString(uint16_t group, uint16_t element) const {
  if (group == 0x0002) return internal::GetString(impl_->file.getMetaInfo(), DcmTagKey(group, element));
  return internal::GetString(&impl_->dataset(), DcmTagKey(group, element));
}

bool DicomObject::Contains(uint16_t group, uint16_t element) const {
  DcmStack stack;
  return impl_->dataset().search(DcmTagKey(group, element), stack, ESM_fromHere, OFTrue).good();
}

namespace internal {

// Writes `file` with DCMTK in `xfer`. DCMTK writes into a fixed buffer and returns
// EC_StreamNotifyClient when it is full, so the buffer is drained and the write resumed.
absl::StatusOr<std::string> WriteWithDcmtk(DcmFileFormat& file, E_TransferSyntax xfer,
                                           E_FileWriteMode mode, const std::string& source) {
  std::string out;
  std::vector<char> buffer(1 << 20);
  DcmOutputBufferStream stream(buffer.data(), static_cast<offile_off_t>(buffer.size()));
  auto drain = [&]() {
    void* data = nullptr;
    offile_off_t length = 0;
    stream.flushBuffer(data, length);
    out.append(static_cast<const char*>(data), static_cast<size_t>(length));
  };
  file.transferInit();
  OFCondition condition;
  while ((condition = file.write(stream, xfer, EET_ExplicitLength, nullptr, EGL_recalcGL,
                                 EPD_noChange, 0, 0, 0, mode)) == EC_StreamNotifyClient) {
    drain();
  }
  file.transferEnd();
  // A deflated data set keeps output in the compression filter until flushed.
  if (condition.good()) {
    do {
      stream.flush();
      drain();
    } while (!stream.isFlushed());
  }
  drain();
  if (condition.bad()) {
    return Internal("DICOM_WRITE_FAILED",
                    absl::StrCat(source, ": writing the DICOM file failed: ", condition.text()),
                    {{"file", source}});
  }
  return out;
}

namespace {

void AppendLittleEndian(std::string& out, uint32_t value) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

// Encodes encapsulated Pixel Data (explicit VR little endian): the element header with
// undefined length, one item per fragment (the offset table first), the delimiter.
std::string EncodeEncapsulatedPixelData(DcmPixelSequence* sequence) {
  std::string out("\xE0\x7F\x10\x00OB\x00\x00\xFF\xFF\xFF\xFF", 12);
  for (unsigned long i = 0; i < sequence->card(); ++i) {
    std::string fragment = JoinFragments(sequence, FrameFragments{{i}}).value_or("");
    if (fragment.size() % 2 == 1) fragment.push_back('\0');
    out.append("\xFE\xFF\x00\xE0", 4);
    AppendLittleEndian(out, static_cast<uint32_t>(fragment.size()));
    out.append(fragment);
  }
  out.append("\xFE\xFF\xDD\xE0\x00\x00\x00\x00", 8);
  return out;
}

}  // namespace
}  // namespace internal

absl::StatusOr<std::string> DicomObject::Serialize() const {
  DcmFileFormat& file = impl_->file;
  DcmDataset& dataset = impl_->dataset();
  E_TransferSyntax xfer = dataset.getOriginalXfer();
  if (xfer == EXS_Unknown) xfer = EXS_LittleEndianExplicit;
  bool known_to_dcmtk = DcmXfer(impl_->header.transfer_syntax_uid.c_str()).getXfer() != EXS_Unknown;
  if (known_to_dcmtk || !impl_->header.encapsulated) {
    return internal::WriteWithDcmtk(file, xfer, EWM_updateMeta, impl_->source);
  }

  // A compressed syntax DCMTK 3.6.7 does not know (HTJ2K): DCMTK writes everything but
  // the Pixel Data, as explicit VR little endian under the file meta information as it
  // is, and the fragments follow as read.
  absl::Status status;
  DcmPixelSequence* sequence = internal::GetPixelSequence(*impl_, &status);
  if (sequence == nullptr) return status;
  std::string pixel_data = internal::EncodeEncapsulatedPixelData(sequence);
  DcmMetaInfo* meta = file.getMetaInfo();
  meta->putAndInsertString(DCM_MediaStorageSOPInstanceUID,
                           internal::GetString(&dataset, DCM_SOPInstanceUID).c_str());
  meta->putAndInsertString(DCM_MediaStorageSOPClassUID,
                           internal::GetString(&dataset, DCM_SOPClassUID).c_str());
  meta->computeGroupLengthAndPadding(EGL_recalcGL, EPD_noChange, EXS_LittleEndianExplicit);

  // Only data set trailing padding may follow Pixel Data; it is dropped.
  DcmElement* pixel = dataset.remove(DCM_PixelData);
  delete dataset.remove(DCM_DataSetTrailingPadding);
  absl::StatusOr<std::string> written =
      internal::WriteWithDcmtk(file, EXS_LittleEndianExplicit, EWM_dontUpdateMeta, impl_->source);
  if (pixel != nullptr) dataset.insert(pixel, true);
  if (!written.ok()) return written.status();
  return *written + pixel_data;
}

bool IsTransferSyntaxSupported(absl::string_view uid) {
  if (internal::IsJpeg2000(uid)) return true;
  DcmXfer xfer(std::string(uid).c_str());
  E_TransferSyntax ts = xfer.getXfer();
  switch (ts) {
    case EXS_LittleEndianImplicit:
    case EXS_LittleEndianExplicit:
    case EXS_BigEndianExplicit:
    case EXS_DeflatedLittleEndianExplicit:
    case EXS_RLELossless:
    case EXS_JPEGProcess1:
    case EXS_JPEGProcess2_4:
    case EXS_JPEGProcess14:
    case EXS_JPEGProcess14SV1:
    case EXS_JPEGLSLossless:
    case EXS_JPEGLSLossy:
      return true;
    default:
      return false;
  }
}

absl::StatusOr<DicomObject> ParseDicom(absl::string_view bytes, absl::string_view source,
                                       const ParseLimits& limits) {
  AILAB_RETURN_IF_ERROR(internal::InitializeDcmtk());
  if (static_cast<int64_t>(bytes.size()) > limits.max_file_bytes) {
    return internal::BadDicom(source, "FILE_TOO_LARGE",
                              absl::StrCat("file of ", bytes.size(),
                                           " bytes is above the limit of ", limits.max_file_bytes));
  }
  if (bytes.size() < 8) {
    return internal::BadDicom(source, "INVALID_DICOM",
                              absl::StrCat("file of ", bytes.size(), " bytes is too short for DICOM"));
  }

  if (!internal::LooksLikeDicomStart(bytes)) {
    return internal::BadDicom(
        source, "INVALID_DICOM",
        "not a DICOM file: it has no \"DICM\" prefix at byte 128 and does not start with a "
        "DICOM element (group 0002 to 0008); upload a DICOM Part 10 file");
  }
  AILAB_RETURN_IF_ERROR(internal::CheckStructure(bytes, source, limits));

  auto impl = std::make_unique<DicomObject::Impl>();
  impl->source = std::string(source);
  impl->limits = limits;

  // Part 10 file, or a bare data set (which the standard allows on media that carry
  // the transfer syntax elsewhere).
  bool reached_end = false;
  OFCondition condition = internal::ReadFile(bytes, impl->file, &reached_end);
  if (condition.bad() && !internal::HasPreamble(bytes)) {
    if (size_t offset = internal::FindLateDataSetStart(bytes); offset > 0) {
      auto retry = std::make_unique<DicomObject::Impl>();
      retry->source = impl->source;
      retry->limits = limits;
      if (internal::ReadFile(bytes.substr(offset), retry->file).good()) {
        impl = std::move(retry);
        condition = EC_Normal;
        impl->header.parse_warnings.push_back(
            absl::StrCat("skipped ", offset, " stray bytes before the data set"));
      }
    }
  }
  if (condition.bad() && reached_end && internal::LooksLikeDicom(bytes, impl->file)) {
    // DCMTK keeps what it read before the stream ran out, so the last attribute read
    // is the one that the end of the file cut.
    std::string last = internal::LastAttributePath(impl->file.getDataset());
    return internal::BadDicom(
        source, "DICOM_TRUNCATED",
        absl::StrCat("the file ends after ", bytes.size(), " bytes, inside or after attribute ",
                     last, ", before the data set is complete; the file is truncated, so "
                     "upload the complete file"));
  }
  if (condition.bad()) {
    return internal::BadDicom(source, "INVALID_DICOM",
                              absl::StrCat("not a readable DICOM file (", condition.text(), ")"));
  }

  // A file meta group without Transfer Syntax UID leaves the data set's encoding a
  // guess; the standard makes the attribute mandatory (type 1).
  DcmMetaInfo* meta = impl->file.getMetaInfo();
  if (internal::HasPreamble(bytes) && internal::GetString(meta, DCM_TransferSyntaxUID).empty()) {
    return internal::BadDicom(source, "MISSING_TRANSFER_SYNTAX",
                              "the file meta information has no Transfer Syntax UID (0002,0010)");
  }

  AILAB_RETURN_IF_ERROR(internal::RefreshHeader(*impl));
  if (impl->header.sop_instance_uid.empty()) {
    return internal::BadDicom(source, "MISSING_SOP_INSTANCE_UID",
                              "SOP Instance UID (0008,0018) is missing, so the instance cannot "
                              "be identified");
  }
  DicomObject object(std::move(impl));
  if (object.header().has_pixel_data) AILAB_RETURN_IF_ERROR(ValidatePixelData(object));
  return object;
}

}  // namespace ailab::dicom
