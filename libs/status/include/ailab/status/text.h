// Checks of short user text (display names, titles) before it is stored.
//
// Names are shown in the browser, printed by the `ailab` client in terminals and
// written to logs. So they may not contain characters that steer a terminal or
// reorder text on screen: C0 and C1 control characters, DEL, and the Unicode
// bidirectional embedding, override and isolate characters.
#pragma once

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace ailab {

// Returns OK, or INVALID_ARGUMENT (reason CONTROL_CHARACTER, naming `field`) when
// `value` contains one of the characters listed above. `value` is UTF-8, as protobuf
// strings are.
absl::Status CheckDisplayText(absl::string_view field, absl::string_view value);

// Returns the number of characters (Unicode code points) of UTF-8 `value`, the unit
// of the length limits in error messages. In malformed UTF-8, each byte that is not a
// continuation byte counts as one character.
size_t CharacterCount(absl::string_view value);

}  // namespace ailab
