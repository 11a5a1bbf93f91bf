#include "ailab/status/text.h"

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ailab/status/status.h"

namespace ailab {
namespace {

// Decodes the UTF-8 sequence at `text[*at]` and advances *at past it. An invalid byte
// decodes as its own value, because only the code points IsForbidden lists matter.
uint32_t NextCodePoint(absl::string_view text, size_t* at) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(text[i]); };
  const uint8_t lead = byte(*at);
  int length = 1;
  if ((lead >> 5) == 0x6) {
    length = 2;
  } else if ((lead >> 4) == 0xE) {
    length = 3;
  } else if ((lead >> 3) == 0x1E) {
    length = 4;
  }
  if (*at + length > text.size()) length = 1;
  uint32_t code = length == 1 ? lead : lead & (0xFF >> (length + 1));
  for (int i = 1; i < length; ++i) code = (code << 6) | (byte(*at + i) & 0x3F);
  *at += length;
  return code;
}

// Returns true for C0 and C1 controls, DEL and the bidirectional formatting characters.
bool IsForbidden(uint32_t code) {
  return code < 0x20 || (code >= 0x7F && code <= 0x9F) || (code >= 0x202A && code <= 0x202E) ||
         (code >= 0x2066 && code <= 0x2069);
}

}  // namespace

absl::Status CheckDisplayText(absl::string_view field, absl::string_view value) {
  size_t at = 0;
  int position = 0;
  while (at < value.size()) {
    const uint32_t code = NextCodePoint(value, &at);
    ++position;
    if (!IsForbidden(code)) continue;
    const std::string character = absl::StrFormat("U+%04X", code);
    return InvalidArgument(
        "CONTROL_CHARACTER", field,
        absl::StrCat(field, " has the control character ", character, " at character ",
                     position, "; use printable text only"),
        {{"field", std::string(field)}, {"character", character}});
  }
  return absl::OkStatus();
}

size_t CharacterCount(absl::string_view value) {
  size_t count = 0;
  for (char c : value) {
    if ((static_cast<uint8_t>(c) & 0xC0) != 0x80) ++count;
  }
  return count;
}

}  // namespace ailab
