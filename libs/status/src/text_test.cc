#include "ailab/status/text.h"

#include <catch2/catch.hpp>

#include <string>

#include "ailab/status/status.h"

namespace ailab {
namespace {

TEST_CASE("CheckDisplayText accepts printable text", "[text]") {
  CHECK(CheckDisplayText("display_name", "Breast density, 2026 screening").ok());
  CHECK(CheckDisplayText("display_name", "Densit\xC3\xA9 mammaire \xE4\xB9\xB3\xE8\x85\xBA").ok());
  CHECK(CheckDisplayText("display_name", "\xF0\x9F\xA9\xBB x-ray").ok());
  CHECK(CheckDisplayText("display_name", "").ok());
}

TEST_CASE("CheckDisplayText rejects control characters", "[text]") {
  const std::string cases[] = {
      std::string("red \x1b[31m text"),  // terminal escape
      std::string("two\nlines"),
      std::string("nul\0inside", 10),
      std::string("delete \x7f"),
      std::string("c1 \xC2\x9B control"),           // U+009B
      std::string("bidi \xE2\x80\xAE override"),    // U+202E
      std::string("isolate \xE2\x81\xA6 start"),    // U+2066
  };
  for (const std::string& text : cases) {
    INFO(text);
    absl::Status status = CheckDisplayText("dataset.display_name", text);
    CHECK(status.code() == absl::StatusCode::kInvalidArgument);
    CHECK(GetErrorReason(status) == "CONTROL_CHARACTER");
    CHECK(status.message().find("dataset.display_name") != absl::string_view::npos);
  }
}

TEST_CASE("CheckDisplayText names the character and its position", "[text]") {
  absl::Status status = CheckDisplayText("title", "ab\x1b");
  CHECK(status.message() ==
        "title has the control character U+001B at character 3; use printable text only");
}

TEST_CASE("CharacterCount counts code points, not bytes", "[text]") {
  CHECK(CharacterCount("") == 0);
  CHECK(CharacterCount("density") == 7);
  CHECK(CharacterCount("Dichte d\xc3\xa9j\xc3\xa0") == 11);  // two 2-byte letters
  CHECK(CharacterCount("\xe4\xb9\xb3\xe8\x85\xba") == 2);    // two 3-byte characters
  CHECK(CharacterCount("\xf0\x9f\xa9\xbb x") == 3);          // a 4-byte character
  CHECK(CharacterCount("\xc3") == 1);                        // a truncated sequence
}

}  // namespace
}  // namespace ailab
