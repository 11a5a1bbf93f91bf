#include "ailab/imaging/png.h"

#include <png.h>
#include <zlib.h>

#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "ailab/status/status.h"

// libpng reports errors by longjmp() to the setjmp() point of the calling function.
// The functions that call setjmp() below therefore keep only trivially destructible
// locals after it; every buffer they fill is owned by their caller, so a jump never
// skips a destructor.

namespace ailab::imaging {
namespace {

// Error text captured by the libpng callbacks, owned by the caller of libpng.
struct PngErrorState {
  char message[256] = {};
};

void OnPngError(png_structp png, png_const_charp message) {
  auto* state = static_cast<PngErrorState*>(png_get_error_ptr(png));
  if (state != nullptr) {
    std::snprintf(state->message, sizeof(state->message), "%s", message);
  }
  png_longjmp(png, 1);
}

void OnPngWarning(png_structp, png_const_charp) {
  // Warnings (for example an unknown ancillary chunk) do not affect the pixels.
}

// --- Encoding -----------------------------------------------------------------------

struct WriteTarget {
  std::string* out;
};

void WriteToString(png_structp png, png_bytep data, png_size_t length) {
  auto* target = static_cast<WriteTarget*>(png_get_io_ptr(png));
  target->out->append(reinterpret_cast<const char*>(data), length);
}

void FlushNothing(png_structp) {}

// Runs libpng's writer over `rows`; returns false with `state` filled on error.
bool WritePng(const png_bytep* rows, int width, int height, int bit_depth, int level,
              std::string* out, PngErrorState* state) {
  png_structp png =
      png_create_write_struct(PNG_LIBPNG_VER_STRING, state, OnPngError, OnPngWarning);
  if (png == nullptr) {
    std::snprintf(state->message, sizeof(state->message), "png_create_write_struct failed");
    return false;
  }
  png_infop info = png_create_info_struct(png);
  if (info == nullptr) {
    png_destroy_write_struct(&png, nullptr);
    std::snprintf(state->message, sizeof(state->message), "png_create_info_struct failed");
    return false;
  }
  WriteTarget target{out};
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return false;
  }
  png_set_write_fn(png, &target, WriteToString, FlushNothing);
  png_set_compression_level(png, level);
  // Levels 1 to 6 use zlib's Z_RLE strategy and one row filter, Average. On radiographs
  // Z_RLE is several times faster than libpng's default (Z_FILTERED) at level 6, with
  // files about as large or smaller; trying all five filters on every row, libpng's
  // default, took 30% of the preparation of a mammogram, and Average alone makes the
  // shared test files 2% larger (both measured by tests/bench/preparation). Levels 7 to
  // 9 keep libpng's defaults for the smallest files.
  if (level >= 1 && level <= 6) {
    png_set_compression_strategy(png, Z_RLE);
    png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_AVG);
  }
  png_set_IHDR(png, info, static_cast<png_uint_32>(width), static_cast<png_uint_32>(height),
               bit_depth, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  // PNG stores 16-bit samples big endian; the rows are in host (little-endian) order.
  if (bit_depth == 16) png_set_swap(png);
  png_write_image(png, const_cast<png_bytepp>(rows));
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return true;
}

absl::Status CheckEncodeArguments(size_t count, int width, int height, int level) {
  if (width <= 0 || height <= 0 || width > 1'000'000 || height > 1'000'000) {
    return InvalidArgument("INVALID_IMAGE_SIZE", "width",
                           absl::StrCat("image size ", width, "x", height,
                                        " is invalid; width and height must be 1 to 1000000"));
  }
  if (static_cast<uint64_t>(width) * static_cast<uint64_t>(height) != count) {
    return InvalidArgument("IMAGE_SIZE_MISMATCH", "pixels",
                           absl::StrCat("image of ", width, "x", height, " needs ",
                                        static_cast<uint64_t>(width) * height,
                                        " pixels but ", count, " were given"));
  }
  if (level < 0 || level > 9) {
    return InvalidArgument("INVALID_COMPRESSION_LEVEL", "compression_level",
                           absl::StrCat("PNG compression level ", level,
                                        " is invalid; use 0 (none) to 9 (smallest)"));
  }
  return absl::OkStatus();
}

template <typename T>
absl::StatusOr<std::string> Encode(absl::Span<const T> pixels, int width, int height,
                                   int bit_depth, int level) {
  AILAB_RETURN_IF_ERROR(CheckEncodeArguments(pixels.size(), width, height, level));
  std::vector<png_bytep> rows(static_cast<size_t>(height));
  for (int y = 0; y < height; ++y) {
    rows[y] = reinterpret_cast<png_bytep>(const_cast<T*>(pixels.data()) +
                                          static_cast<size_t>(y) * width);
  }
  std::string out;
  PngErrorState state;
  if (!WritePng(rows.data(), width, height, bit_depth, level, &out, &state)) {
    return Internal("PNG_ENCODE_FAILED", absl::StrCat("PNG encoding failed: ", state.message));
  }
  return out;
}

// --- Decoding -----------------------------------------------------------------------

struct ReadSource {
  const uint8_t* data;
  size_t size;
  size_t offset;
};

void ReadFromMemory(png_structp png, png_bytep out, png_size_t length) {
  auto* source = static_cast<ReadSource*>(png_get_io_ptr(png));
  if (length > source->size - source->offset) {
    png_error(png, "file is truncated");
  }
  std::memcpy(out, source->data + source->offset, length);
  source->offset += length;
}

// Layout of the rows libpng delivers after the transformations set in ReadPng().
struct DecodedLayout {
  png_uint_32 width = 0;
  png_uint_32 height = 0;
  int bit_depth = 0;  // 8 or 16
  int channels = 0;   // 1 (gray) or 3 (RGB)
};

// Two phases so that the caller can allocate the row buffer between them: phase 1
// reads the header and sets the transformations, phase 2 reads the pixels.
struct PngReader {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~PngReader() {
    if (png != nullptr) png_destroy_read_struct(&png, info != nullptr ? &info : nullptr, nullptr);
  }
};

bool ReadHeader(PngReader* reader, ReadSource* source, DecodedLayout* layout,
                PngErrorState* state) {
  if (setjmp(png_jmpbuf(reader->png))) return false;
  png_set_read_fn(reader->png, source, ReadFromMemory);
  // Allow images up to the caller's pixel limit rather than libpng's default 1M x 1M.
  png_set_user_limits(reader->png, 0x7fffffff, 0x7fffffff);
  png_read_info(reader->png, reader->info);

  png_uint_32 width = 0, height = 0;
  int bit_depth = 0, color_type = 0;
  png_get_IHDR(reader->png, reader->info, &width, &height, &bit_depth, &color_type, nullptr,
               nullptr, nullptr);
  if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(reader->png);
  if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(reader->png);
  if (png_get_valid(reader->png, reader->info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(reader->png);
  png_set_strip_alpha(reader->png);
  if (bit_depth == 16) png_set_swap(reader->png);
  png_set_interlace_handling(reader->png);
  png_read_update_info(reader->png, reader->info);

  layout->width = png_get_image_width(reader->png, reader->info);
  layout->height = png_get_image_height(reader->png, reader->info);
  layout->bit_depth = png_get_bit_depth(reader->png, reader->info);
  layout->channels = png_get_channels(reader->png, reader->info);
  return true;
}

bool ReadRows(PngReader* reader, png_bytepp rows, PngErrorState* state) {
  if (setjmp(png_jmpbuf(reader->png))) return false;
  png_read_image(reader->png, rows);
  png_read_end(reader->png, nullptr);
  return true;
}

uint16_t Luma(uint32_t r, uint32_t g, uint32_t b) {
  // BT.601 weights in 1/1000 units, rounded.
  return static_cast<uint16_t>((299 * r + 587 * g + 114 * b + 500) / 1000);
}

}  // namespace

absl::StatusOr<std::string> EncodePng8(absl::Span<const uint8_t> pixels, int width, int height,
                                       int compression_level) {
  return Encode(pixels, width, height, 8, compression_level);
}

absl::StatusOr<std::string> EncodePng16(absl::Span<const uint16_t> pixels, int width, int height,
                                        int compression_level) {
  return Encode(pixels, width, height, 16, compression_level);
}

absl::StatusOr<std::string> EncodePng(const GrayImage& image, int compression_level) {
  if (image.bit_depth == 16) {
    return EncodePng16(image.pixels, image.width, image.height, compression_level);
  }
  if (image.bit_depth != 8) {
    return InvalidArgument("INVALID_BIT_DEPTH", "bit_depth",
                           absl::StrCat("grayscale PNG bit depth ", image.bit_depth,
                                        " is not supported; use 8 or 16"));
  }
  std::vector<uint8_t> narrow(image.pixels.size());
  for (size_t i = 0; i < narrow.size(); ++i) {
    if (image.pixels[i] > 255) {
      return InvalidArgument("PIXEL_OUT_OF_RANGE", "pixels",
                             absl::StrCat("pixel ", i, " has value ", image.pixels[i],
                                          ", above 255 for an 8-bit image"));
    }
    narrow[i] = static_cast<uint8_t>(image.pixels[i]);
  }
  return EncodePng8(narrow, image.width, image.height, compression_level);
}

absl::StatusOr<GrayImage> DecodePng(absl::string_view bytes, absl::string_view source_name,
                                    int64_t max_pixels) {
  auto invalid = [&](absl::string_view message) {
    return InvalidArgument("INVALID_PNG", "", absl::StrCat(source_name, ": ", message),
                           {{"source", source_name}});
  };
  if (bytes.size() < 8 || png_sig_cmp(reinterpret_cast<png_const_bytep>(bytes.data()), 0, 8) != 0) {
    return invalid("not a PNG file (the PNG signature is missing)");
  }

  // Phase 1: header and transformations.
  PngErrorState state;
  PngReader reader;
  reader.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &state, OnPngError, OnPngWarning);
  if (reader.png != nullptr) reader.info = png_create_info_struct(reader.png);
  if (reader.png == nullptr || reader.info == nullptr) {
    return Internal("PNG_DECODE_FAILED", "libpng could not allocate its reader");
  }
  ReadSource source{reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), 0};
  DecodedLayout layout;
  if (!ReadHeader(&reader, &source, &layout, &state)) {
    return invalid(absl::StrCat("invalid PNG header: ", state.message));
  }
  int64_t pixel_count = static_cast<int64_t>(layout.width) * layout.height;
  if (layout.width == 0 || layout.height == 0 || pixel_count > max_pixels) {
    return invalid(absl::StrCat("PNG of ", layout.width, "x", layout.height,
                                " pixels is over the limit of ", max_pixels, " pixels"));
  }

  // Phase 2: pixels into a buffer owned here.
  size_t sample_bytes = layout.bit_depth == 16 ? 2 : 1;
  size_t row_bytes = static_cast<size_t>(layout.width) * layout.channels * sample_bytes;
  std::vector<uint8_t> buffer(row_bytes * layout.height);
  std::vector<png_bytep> rows(layout.height);
  for (png_uint_32 y = 0; y < layout.height; ++y) rows[y] = buffer.data() + y * row_bytes;
  if (!ReadRows(&reader, rows.data(), &state)) {
    return invalid(absl::StrCat("invalid PNG data: ", state.message));
  }

  // Grayscale conversion.
  GrayImage image;
  image.width = static_cast<int>(layout.width);
  image.height = static_cast<int>(layout.height);
  image.bit_depth = layout.bit_depth == 16 ? 16 : 8;
  image.pixels.resize(static_cast<size_t>(pixel_count));
  for (size_t i = 0; i < image.pixels.size(); ++i) {
    uint32_t sample[3] = {0, 0, 0};
    for (int c = 0; c < layout.channels && c < 3; ++c) {
      const uint8_t* p = buffer.data() + (i * layout.channels + c) * sample_bytes;
      sample[c] = sample_bytes == 2 ? static_cast<uint32_t>(p[0] | (p[1] << 8)) : p[0];
    }
    image.pixels[i] = layout.channels >= 3 ? Luma(sample[0], sample[1], sample[2])
                                           : static_cast<uint16_t>(sample[0]);
  }
  return image;
}

std::vector<float> ToUnitFloat(const GrayImage& image) {
  float max_value = image.bit_depth == 16 ? 65535.0f : 255.0f;
  std::vector<float> values(image.pixels.size());
  for (size_t i = 0; i < values.size(); ++i) values[i] = image.pixels[i] / max_value;
  return values;
}

}  // namespace ailab::imaging
