// JPEG 2000 and HTJ2K decoding with OpenJPEG (2.5 decodes both), since DCMTK 3.6.7 has
// no JPEG 2000 codec.
#include <openjpeg.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"
#include "ailab/status/status.h"
#include "internal.h"

namespace ailab::dicom::internal {
namespace {

// A memory stream for OpenJPEG's read, skip and seek callbacks.
struct MemoryStream {
  const uint8_t* data;
  size_t size;
  size_t offset;
};

OPJ_SIZE_T Read(void* buffer, OPJ_SIZE_T bytes, void* user) {
  auto* s = static_cast<MemoryStream*>(user);
  if (s->offset >= s->size) return static_cast<OPJ_SIZE_T>(-1);
  OPJ_SIZE_T n = std::min<OPJ_SIZE_T>(bytes, s->size - s->offset);
  std::memcpy(buffer, s->data + s->offset, n);
  s->offset += n;
  return n;
}

OPJ_OFF_T Skip(OPJ_OFF_T bytes, void* user) {
  auto* s = static_cast<MemoryStream*>(user);
  if (bytes < 0) {
    OPJ_OFF_T back = std::min<OPJ_OFF_T>(-bytes, static_cast<OPJ_OFF_T>(s->offset));
    s->offset -= static_cast<size_t>(back);
    return -back;
  }
  OPJ_OFF_T forward = std::min<OPJ_OFF_T>(bytes, static_cast<OPJ_OFF_T>(s->size - s->offset));
  s->offset += static_cast<size_t>(forward);
  return forward;
}

OPJ_BOOL Seek(OPJ_OFF_T position, void* user) {
  auto* s = static_cast<MemoryStream*>(user);
  if (position < 0 || static_cast<size_t>(position) > s->size) return OPJ_FALSE;
  s->offset = static_cast<size_t>(position);
  return OPJ_TRUE;
}

// Keeps the first error OpenJPEG reports.
void OnError(const char* message, void* user) {
  auto* text = static_cast<std::string*>(user);
  if (text->empty()) {
    *text = message;
    while (!text->empty() && (text->back() == '\n' || text->back() == ' ')) text->pop_back();
  }
}

void Ignore(const char*, void*) {}

struct CodecDeleter {
  void operator()(opj_codec_t* codec) const { opj_destroy_codec(codec); }
};
struct StreamDeleter {
  void operator()(opj_stream_t* stream) const { opj_stream_destroy(stream); }
};
struct ImageDeleter {
  void operator()(opj_image_t* image) const { opj_image_destroy(image); }
};

}  // namespace

absl::StatusOr<Jpeg2000Image> DecodeJpeg2000(absl::string_view code_stream,
                                             absl::string_view source, int64_t max_bytes) {
  auto fail = [&](absl::string_view what) {
    return BadDicom(source, "INVALID_JPEG2000",
                    absl::StrCat("JPEG 2000 decoding failed: ", what));
  };
  if (code_stream.size() < 12) return fail("the code stream is too short");

  // A raw code stream starts with SOC (FF4F); a JP2 file with its signature box.
  bool jp2 = code_stream.substr(4, 4) == "jP  ";
  std::unique_ptr<opj_codec_t, CodecDeleter> codec(
      opj_create_decompress(jp2 ? OPJ_CODEC_JP2 : OPJ_CODEC_J2K));
  if (codec == nullptr) return fail("OpenJPEG could not create a decoder");
  std::string error;
  opj_set_error_handler(codec.get(), OnError, &error);
  opj_set_warning_handler(codec.get(), Ignore, nullptr);
  opj_set_info_handler(codec.get(), Ignore, nullptr);
  opj_dparameters_t parameters;
  opj_set_default_decoder_parameters(&parameters);
  if (!opj_setup_decoder(codec.get(), &parameters)) return fail(error);
  // Strict mode fails on a truncated code stream instead of decoding what is there.
  opj_decoder_set_strict_mode(codec.get(), OPJ_TRUE);

  MemoryStream memory{reinterpret_cast<const uint8_t*>(code_stream.data()), code_stream.size(), 0};
  std::unique_ptr<opj_stream_t, StreamDeleter> stream(opj_stream_create(1 << 16, OPJ_TRUE));
  opj_stream_set_user_data(stream.get(), &memory, nullptr);
  opj_stream_set_user_data_length(stream.get(), code_stream.size());
  opj_stream_set_read_function(stream.get(), Read);
  opj_stream_set_skip_function(stream.get(), Skip);
  opj_stream_set_seek_function(stream.get(), Seek);

  opj_image_t* raw_image = nullptr;
  if (!opj_read_header(stream.get(), codec.get(), &raw_image)) {
    opj_image_destroy(raw_image);
    return fail(error.empty() ? "invalid header" : error);
  }
  std::unique_ptr<opj_image_t, ImageDeleter> image(raw_image);

  // Check the size before OpenJPEG allocates the component buffers.
  if (image->numcomps < 1 || image->numcomps > 4) {
    return fail(absl::StrCat(image->numcomps, " components; 1, 3 or 4 are supported"));
  }
  int64_t width = image->x1 - image->x0;
  int64_t height = image->y1 - image->y0;
  if (width <= 0 || height <= 0 || width * height * image->numcomps * 4 > max_bytes) {
    return fail(absl::StrCat("image of ", width, " x ", height, " is empty or above the limit"));
  }
  if (!opj_decode(codec.get(), stream.get(), image.get()) ||
      !opj_end_decompress(codec.get(), stream.get())) {
    return fail(error.empty() ? "the code stream is corrupt or truncated" : error);
  }

  // Keep the colour components (drop alpha) and interleave them.
  Jpeg2000Image out;
  out.components = image->numcomps >= 3 ? 3 : 1;
  const opj_image_comp_t& first = image->comps[0];
  out.width = static_cast<int>(first.w);
  out.height = static_cast<int>(first.h);
  out.precision = static_cast<int>(first.prec);
  out.is_signed = first.sgnd != 0;
  for (int c = 0; c < out.components; ++c) {
    const opj_image_comp_t& comp = image->comps[c];
    if (comp.w != first.w || comp.h != first.h || comp.data == nullptr) {
      return fail("subsampled colour components are not supported");
    }
  }
  size_t pixels = static_cast<size_t>(out.width) * out.height;
  if (out.components == 1) {
    // One pass that the compiler vectorises, without a zero-filled buffer first.
    const OPJ_INT32* data = image->comps[0].data;
    out.samples.assign(data, data + pixels);
    return out;
  }
  out.samples.resize(pixels * out.components);
  for (int c = 0; c < out.components; ++c) {
    const OPJ_INT32* data = image->comps[c].data;
    for (size_t i = 0; i < pixels; ++i) {
      out.samples[i * out.components + c] = static_cast<float>(data[i]);
    }
  }
  return out;
}

}  // namespace ailab::dicom::internal
