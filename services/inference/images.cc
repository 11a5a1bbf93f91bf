#include "services/inference/images.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ailab/dicom/dicom.h"
#include "ailab/dicom/pixels.h"
#include "ailab/imaging/npy.h"
#include "ailab/imaging/png.h"
#include "ailab/imaging/resize.h"
#include "ailab/status/status.h"

namespace ailab::inference {

absl::StatusOr<PreparedImage> PrepareDicom(absl::string_view bytes, absl::string_view source,
                                           int size) {
  AILAB_ASSIGN_OR_RETURN(dicom::DicomObject object, dicom::ParseDicom(bytes, source));
  if (!object.header().has_pixel_data) {
    return InvalidArgument("DICOM_WITHOUT_PIXELS", "dicom",
                           absl::StrCat(source, ": the DICOM file has no Pixel Data; upload an image"),
                           {{"source", source}});
  }
  dicom::PrepareOptions options;
  options.size = size;
  AILAB_ASSIGN_OR_RETURN(dicom::PreparedArray prepared, dicom::PrepareArray(object, options));
  AILAB_ASSIGN_OR_RETURN(std::vector<float> pixels, prepared.array.AsFloat());
  PreparedImage image;
  image.pixels = std::move(pixels);
  image.study_date = object.header().study_date_iso;
  image.modality = object.header().modality;
  image.body_part = object.header().body_part;
  return image;
}

bool ImageFitsUseCase(absl::string_view use_case_modality, absl::string_view modality,
                      absl::string_view body_part) {
  if (modality == use_case_modality) return true;
  auto projection = [](absl::string_view code) {
    return code == "DX" || code == "CR" || code == "RG";
  };
  if (!projection(modality)) return false;
  if (use_case_modality == "MG") return body_part == "BREAST";
  return projection(use_case_modality);
}

absl::StatusOr<PreparedImage> PreparePng(absl::string_view bytes, absl::string_view source,
                                         int size) {
  AILAB_ASSIGN_OR_RETURN(imaging::GrayImage decoded, imaging::DecodePng(bytes, source));
  const std::vector<float> unit = imaging::ToUnitFloat(decoded);
  AILAB_ASSIGN_OR_RETURN(imaging::ResizeResult resized,
                         imaging::ResizeKeepAspect(unit, decoded.height, decoded.width, size));
  PreparedImage image;
  image.pixels = std::move(resized.pixels);
  return image;
}

absl::StatusOr<PreparedImage> PrepareNpy(absl::string_view bytes, absl::string_view source,
                                         int size) {
  AILAB_ASSIGN_OR_RETURN(imaging::Array array, imaging::DecodeNpy(bytes, source));
  std::vector<int64_t> shape = array.shape;
  if (shape.size() == 3 && shape[0] == 1) shape.erase(shape.begin());
  if (shape.size() != 2 || shape[0] < 1 || shape[1] < 1) {
    const std::string shape_text = absl::StrJoin(array.shape, "x");
    return InvalidArgument(
        "INVALID_ARRAY_SHAPE", "array",
        absl::StrCat(source, ": prepared array has shape ", shape_text,
                     "; expected rows x columns of one image; prepare the dataset again"),
        {{"source", source}, {"shape", shape_text}});
  }
  AILAB_ASSIGN_OR_RETURN(std::vector<float> values, array.AsFloat());
  float scale = 1.0f;
  if (array.dtype == imaging::kUint16) scale = 1.0f / 65535.0f;
  if (array.dtype == imaging::kUint8) scale = 1.0f / 255.0f;
  if (scale != 1.0f) {
    for (float& value : values) value *= scale;
  }
  PreparedImage image;
  const int rows = static_cast<int>(shape[0]);
  const int columns = static_cast<int>(shape[1]);
  if (rows == size && columns == size) {
    image.pixels = std::move(values);
    return image;
  }
  AILAB_ASSIGN_OR_RETURN(image.pixels, imaging::Resize(values, rows, columns, size, size));
  return image;
}

}  // namespace ailab::inference
