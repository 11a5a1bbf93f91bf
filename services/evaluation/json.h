// Protobuf JSON encoding of the records that the evaluation service's stores keep in
// `body` columns.
#pragma once

#include <string>

#include "absl/strings/str_cat.h"
#include "ailab/status/status.h"
#include "google/protobuf/message.h"
#include "google/protobuf/util/json_util.h"

namespace ailab::evaluation {

// Encodes `message` as JSON. INTERNAL when encoding fails.
inline absl::StatusOr<std::string> ToJson(const google::protobuf::Message& message) {
  std::string json;
  auto status = google::protobuf::util::MessageToJsonString(message, &json);
  if (!status.ok()) {
    return Internal("JSON_ENCODING_FAILED",
                    absl::StrCat("could not encode a stored record: ", status.ToString()));
  }
  return json;
}

// Decodes the stored record `id`, ignoring fields a later version added.
template <typename T>
absl::StatusOr<T> FromJson(const std::string& json, const std::string& id) {
  T message;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  auto status = google::protobuf::util::JsonStringToMessage(json, &message, options);
  if (!status.ok()) {
    return Internal("STORED_RECORD_UNREADABLE",
                    absl::StrCat("stored record \"", id, "\" is unreadable: ", status.ToString()),
                    {{"id", id}});
  }
  return message;
}

}  // namespace ailab::evaluation
