#include "transcoder.h"

#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "ailab/annotation/v1/annotation.pb.h"
#include "ailab/catalog/v1/catalog.pb.h"
#include "ailab/evaluation/v1/evaluation.pb.h"
#include "ailab/evaluation/v1/publishing.pb.h"
#include "ailab/identity/v1/identity.pb.h"
#include "ailab/inference/v1/inference.pb.h"
#include "ailab/ingest/v1/ingest.pb.h"
#include "ailab/status/status.h"
#include "ailab/training/v1/training.pb.h"
#include "google/protobuf/util/json_util.h"
#include "http_util.h"
#include "nlohmann/json.hpp"
#include "routes.h"

namespace ailab::gateway {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::DescriptorPool;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// SAX handler that accepts only strict JSON (RFC 8259) without a key twice in one
// object. Protobuf's parser also takes trailing commas, single quotes and unquoted
// keys, and of a repeated key it keeps the last value, so two programs could read one
// body differently.
class StrictJson : public nlohmann::json_sax<nlohmann::json> {
 public:
  // Returns what was wrong with the body, or an empty string for strict JSON.
  const std::string& problem() const { return problem_; }

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override {
    keys_.emplace_back();
    return true;
  }
  bool key(string_t& key) override {
    if (keys_.back().insert(key).second) return true;
    constexpr size_t kShownKeyLength = 100;
    problem_ = absl::StrCat("the key \"", key.substr(0, kShownKeyLength),
                            "\" appears twice in one object; send each field once");
    return false;
  }
  bool end_object() override {
    keys_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t, const std::string&,
                   const nlohmann::detail::exception& error) override {
    // what() starts with "[json.exception.parse_error.101] ", which helps no caller.
    std::string text = error.what();
    if (const size_t end = text.find("] ");
        !text.empty() && text[0] == '[' && end != std::string::npos) {
      text.erase(0, end + 2);
    }
    problem_ = std::move(text);
    return false;
  }

 private:
  std::vector<std::set<std::string>> keys_;
  std::string problem_;
};

// Walks `path` down message fields; returns the last field and its owning message.
std::pair<Message*, const FieldDescriptor*> Walk(Message& message, absl::string_view path) {
  Message* current = &message;
  std::vector<std::string> parts = absl::StrSplit(path, '.');
  for (size_t i = 0; i < parts.size(); ++i) {
    const FieldDescriptor* field = current->GetDescriptor()->FindFieldByName(parts[i]);
    if (field == nullptr || field->is_repeated()) return {nullptr, nullptr};
    if (i + 1 == parts.size()) return {current, field};
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) return {nullptr, nullptr};
    current = current->GetReflection()->MutableMessage(current, field);
  }
  return {nullptr, nullptr};
}

// ---------------------------------------------------------------------------------------
// OpenAPI schemas

std::string SchemaRef(const Descriptor* descriptor) {
  return absl::StrCat("{\"$ref\":\"#/components/schemas/", descriptor->full_name(), "\"}");
}

std::string WellKnownSchema(const Descriptor* descriptor) {
  const std::string& name = descriptor->full_name();
  if (name == "google.protobuf.Timestamp") {
    return "{\"type\":\"string\",\"format\":\"date-time\"}";
  }
  if (name == "google.protobuf.Duration") {
    return "{\"type\":\"string\",\"description\":\"seconds with an s suffix, e.g. 1.5s\"}";
  }
  if (name == "google.protobuf.FieldMask") {
    return "{\"type\":\"string\",\"description\":\"comma-separated lowerCamelCase paths\"}";
  }
  if (name == "google.protobuf.Struct" || name == "google.protobuf.Any") {
    return "{\"type\":\"object\"}";
  }
  if (name == "google.protobuf.Value") return "{}";
  if (name == "google.protobuf.ListValue") return "{\"type\":\"array\",\"items\":{}}";
  return "";
}

std::string ScalarSchema(const FieldDescriptor* field, std::vector<const Descriptor*>& pending) {
  switch (field->type()) {
    case FieldDescriptor::TYPE_DOUBLE:
    case FieldDescriptor::TYPE_FLOAT:
      return "{\"type\":\"number\"}";
    case FieldDescriptor::TYPE_INT32:
    case FieldDescriptor::TYPE_SINT32:
    case FieldDescriptor::TYPE_SFIXED32:
    case FieldDescriptor::TYPE_UINT32:
    case FieldDescriptor::TYPE_FIXED32:
      return "{\"type\":\"integer\",\"format\":\"int32\"}";
    case FieldDescriptor::TYPE_INT64:
    case FieldDescriptor::TYPE_SINT64:
    case FieldDescriptor::TYPE_SFIXED64:
    case FieldDescriptor::TYPE_UINT64:
    case FieldDescriptor::TYPE_FIXED64:
      return "{\"type\":\"string\",\"format\":\"int64\"}";
    case FieldDescriptor::TYPE_BOOL:
      return "{\"type\":\"boolean\"}";
    case FieldDescriptor::TYPE_STRING:
      return "{\"type\":\"string\"}";
    case FieldDescriptor::TYPE_BYTES:
      return "{\"type\":\"string\",\"format\":\"byte\"}";
    case FieldDescriptor::TYPE_ENUM: {
      std::vector<std::string> names;
      for (int i = 0; i < field->enum_type()->value_count(); ++i) {
        names.push_back(JsonQuote(field->enum_type()->value(i)->name()));
      }
      return absl::StrCat("{\"type\":\"string\",\"enum\":[", absl::StrJoin(names, ","), "]}");
    }
    case FieldDescriptor::TYPE_MESSAGE:
    case FieldDescriptor::TYPE_GROUP: {
      const Descriptor* type = field->message_type();
      std::string known = WellKnownSchema(type);
      if (!known.empty()) return known;
      pending.push_back(type);
      return SchemaRef(type);
    }
  }
  return "{}";
}

std::string MessageSchema(const Descriptor* descriptor, std::vector<const Descriptor*>& pending) {
  std::vector<std::string> properties;
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    std::string schema;
    if (field->is_map()) {
      schema = absl::StrCat("{\"type\":\"object\",\"additionalProperties\":",
                            ScalarSchema(field->message_type()->map_value(), pending), "}");
    } else if (field->is_repeated()) {
      schema = absl::StrCat("{\"type\":\"array\",\"items\":", ScalarSchema(field, pending), "}");
    } else {
      schema = ScalarSchema(field, pending);
    }
    properties.push_back(absl::StrCat(JsonQuote(field->json_name()), ":", schema));
  }
  return absl::StrCat("{\"type\":\"object\",\"properties\":{", absl::StrJoin(properties, ","),
                      "}}");
}

std::string JsonStringArray(const std::vector<std::string>& values) {
  std::vector<std::string> quoted;
  for (const std::string& value : values) quoted.push_back(JsonQuote(value));
  return absl::StrCat("[", absl::StrJoin(quoted, ","), "]");
}

constexpr char kErrorResponses[] =
    "\"400\":{\"description\":\"invalid request\",\"content\":{\"application/json\":"
    "{\"schema\":{\"$ref\":\"#/components/schemas/Error\"}}}},"
    "\"401\":{\"description\":\"not signed in\"},"
    "\"403\":{\"description\":\"role not allowed or acting for another user\"},"
    "\"404\":{\"description\":\"not found\"}";

// Touches one message of each API file. The generated code registers a file's
// descriptors in the generated pool from a static initializer, and the linker drops
// that object file from a static library unless something references it.
void LinkApiDescriptors() {
  static const bool kLinked = [] {
    for (const google::protobuf::Descriptor* descriptor :
         {catalog::v1::GetUseCaseRequest::descriptor(), ingest::v1::GetDatasetRequest::descriptor(),
          annotation::v1::SaveAnnotationRequest::descriptor(),
          training::v1::GetTrainingJobRequest::descriptor(),
          inference::v1::PredictRequest::descriptor(),
          evaluation::v1::GetChallengeRequest::descriptor(),
          evaluation::v1::GetDestinationRequest::descriptor(),
          identity::v1::SignInRequest::descriptor()}) {
      if (descriptor == nullptr) return false;
    }
    return true;
  }();
  (void)kLinked;
}

}  // namespace

const google::protobuf::MethodDescriptor* FindMethod(absl::string_view method) {
  LinkApiDescriptors();
  const size_t slash = method.find('/');
  if (slash == absl::string_view::npos) return nullptr;
  const google::protobuf::ServiceDescriptor* service =
      DescriptorPool::generated_pool()->FindServiceByName(std::string(method.substr(0, slash)));
  if (service == nullptr) return nullptr;
  return service->FindMethodByName(std::string(method.substr(slash + 1)));
}

std::unique_ptr<Message> NewMessage(const Descriptor* descriptor) {
  const Message* prototype =
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(descriptor);
  return std::unique_ptr<Message>(prototype->New());
}

absl::Status ParseJson(absl::string_view json, Message& message) {
  if (json.find_first_not_of(" \t\r\n") == absl::string_view::npos) return absl::OkStatus();
  // PostgreSQL text cannot hold NUL, so a string with one would be cut short where it is
  // stored; JSON can carry it only as the escape \u0000.
  if (json.find("\\u0000") != absl::string_view::npos) {
    return InvalidArgument("NUL_CHARACTER", "body",
                           "the request body has a NUL character (\\u0000) in a string; text "
                           "may not contain NUL, remove it");
  }
  StrictJson strict;
  if (!nlohmann::json::sax_parse(json.begin(), json.end(), &strict) || !strict.problem().empty()) {
    return InvalidArgument("INVALID_JSON", "body",
                           absl::StrCat("the request body is not valid JSON: ", strict.problem()),
                           {{"message_type", message.GetDescriptor()->full_name()}});
  }
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &message, options);
  if (!status.ok()) {
    const std::string detail(status.message().data(), status.message().size());
    return InvalidArgument("INVALID_JSON", "body",
                           absl::StrCat("the request body is not a valid ",
                                        message.GetDescriptor()->full_name(), ": ", detail),
                           {{"message_type", message.GetDescriptor()->full_name()}});
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> PrintJson(const Message& message) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = false;
  auto status = google::protobuf::util::MessageToJsonString(message, &out, options);
  if (!status.ok()) {
    return Internal("JSON_PRINT_FAILED",
                    absl::StrCat("could not print ", message.GetDescriptor()->full_name(),
                                 " as JSON: ", std::string(status.message())));
  }
  return out;
}

bool HasStringField(const Descriptor* descriptor, absl::string_view path) {
  std::vector<std::string> parts = absl::StrSplit(path, '.');
  for (size_t i = 0; i < parts.size(); ++i) {
    const FieldDescriptor* field = descriptor->FindFieldByName(parts[i]);
    if (field == nullptr || field->is_repeated()) return false;
    if (i + 1 == parts.size()) return field->type() == FieldDescriptor::TYPE_STRING;
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) return false;
    descriptor = field->message_type();
  }
  return false;
}

absl::Status BindCallerField(Message& message, absl::string_view path, absl::string_view user,
                             bool may_act_for_others) {
  auto [owner, field] = Walk(message, path);
  if (owner == nullptr || field->type() != FieldDescriptor::TYPE_STRING) {
    return Internal("CALLER_FIELD_MISSING",
                    absl::StrCat(message.GetDescriptor()->full_name(), " has no string field \"",
                                 path, "\" for the caller"));
  }
  const std::string current = owner->GetReflection()->GetString(*owner, field);
  if (current.empty()) {
    owner->GetReflection()->SetString(owner, field, std::string(user));
    return absl::OkStatus();
  }
  if (current != user && !may_act_for_others) {
    return PermissionDenied(
        "CALLER_MISMATCH",
        absl::StrCat("field \"", path, "\" names user \"", current, "\" but the caller is \"", user,
                     "\"; leave it empty to act as yourself"),
        {{"field", path}});
  }
  return absl::OkStatus();
}

std::string ResourceOf(const Message& message) {
  const Descriptor* descriptor = message.GetDescriptor();
  const auto* reflection = message.GetReflection();
  for (const char* name :
       {"name", "parent", "use_case", "dataset", "challenge", "model", "instance"}) {
    const FieldDescriptor* field = descriptor->FindFieldByName(name);
    if (field == nullptr || field->is_repeated() || field->type() != FieldDescriptor::TYPE_STRING) {
      continue;
    }
    std::string value = reflection->GetString(message, field);
    if (!value.empty()) return value;
  }
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    if (field->is_repeated() || field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (!reflection->HasField(message, field)) continue;
    const Message& inner = reflection->GetMessage(message, field);
    const FieldDescriptor* name = inner.GetDescriptor()->FindFieldByName("name");
    if (name != nullptr && !name->is_repeated() && name->type() == FieldDescriptor::TYPE_STRING) {
      std::string value = inner.GetReflection()->GetString(inner, name);
      if (!value.empty()) return value;
    }
  }
  return "";
}

std::string OpenApiJson() {
  LinkApiDescriptors();
  std::vector<std::string> paths;
  std::vector<const Descriptor*> pending;

  for (const Route& route : Routes()) {
    const google::protobuf::MethodDescriptor* method = FindMethod(route.method);
    if (method == nullptr) continue;
    pending.push_back(method->input_type());
    pending.push_back(method->output_type());
    const std::string security =
        route.public_method ? "\"security\":[]," : "\"security\":[{\"bearer\":[]}],";
    paths.push_back(absl::StrCat(
        JsonQuote(absl::StrCat("/api/", route.method)), ":{\"post\":{", "\"operationId\":",
        JsonQuote(route.method), ",", "\"tags\":[", JsonQuote(ServiceOf(route.method)), "],",
        security, "\"x-ailab-roles\":", JsonStringArray(route.roles), ",",
        "\"x-ailab-caller-field\":", JsonQuote(route.caller_field), ",",
        "\"requestBody\":{\"required\":true,\"content\":{\"application/json\":{\"schema\":",
        SchemaRef(method->input_type()), "}}},",
        "\"responses\":{\"200\":{\"description\":\"OK\",\"content\":{\"application/json\":"
        "{\"schema\":",
        SchemaRef(method->output_type()), "}}},", kErrorResponses, "}}}"));
  }

  // The routes that are not a plain method call.
  paths.push_back(
      "\"/api/upload\":{\"post\":{\"operationId\":\"upload\",\"security\":[{\"bearer\":[]}],"
      "\"x-ailab-roles\":[\"data_manager\"],"
      "\"parameters\":[{\"name\":\"dataset\",\"in\":\"query\",\"required\":true,\"schema\":"
      "{\"type\":\"string\"}},{\"name\":\"filename\",\"in\":\"query\",\"required\":true,"
      "\"schema\":{\"type\":\"string\"}}],"
      "\"requestBody\":{\"required\":true,\"content\":{\"application/dicom\":{\"schema\":"
      "{\"type\":\"string\",\"format\":\"binary\"}}}},"
      "\"responses\":{\"200\":{\"description\":\"OK\",\"content\":{\"application/json\":"
      "{\"schema\":{\"$ref\":\"#/components/schemas/ailab.ingest.v1.UploadInstancesResponse\"}}}"
      "}}}}");
  paths.push_back(
      "\"/api/events/trainingJobs/{id}\":{\"get\":{\"operationId\":\"watchTrainingJob\","
      "\"security\":[{\"bearer\":[]}],\"x-ailab-roles\":[\"radiologist\"],"
      "\"parameters\":[{\"name\":\"id\",\"in\":\"path\",\"required\":true,\"schema\":"
      "{\"type\":\"string\"}}],\"responses\":{\"200\":{\"description\":\"server-sent events, "
      "one TrainingJob JSON per event\",\"content\":{\"text/event-stream\":{}}}}}}");
  paths.push_back(
      "\"/api/blobs/{id}\":{\"get\":{\"operationId\":\"getBlob\",\"security\":[{\"bearer\":[]}],"
      "\"x-ailab-roles\":[],\"parameters\":[{\"name\":\"id\",\"in\":\"path\",\"required\":true,"
      "\"schema\":{\"type\":\"string\",\"pattern\":\"^sha256:[0-9a-f]{64}$\"}}],"
      "\"responses\":{\"200\":{\"description\":\"the blob's bytes\"}}}}");
  if (const Descriptor* upload = DescriptorPool::generated_pool()->FindMessageTypeByName(
          "ailab.ingest.v1.UploadInstancesResponse")) {
    pending.push_back(upload);
  }

  // Schemas of every message reachable from a route.
  std::vector<std::string> schemas;
  std::set<std::string> done;
  while (!pending.empty()) {
    const Descriptor* descriptor = pending.back();
    pending.pop_back();
    if (!done.insert(descriptor->full_name()).second) continue;
    schemas.push_back(
        absl::StrCat(JsonQuote(descriptor->full_name()), ":", MessageSchema(descriptor, pending)));
  }
  schemas.push_back(
      "\"Error\":{\"type\":\"object\",\"properties\":{\"code\":{\"type\":\"string\"},"
      "\"message\":{\"type\":\"string\"},\"reason\":{\"type\":\"string\"},"
      "\"requestId\":{\"type\":\"string\"}}}");

  return absl::StrCat(
      "{\"openapi\":\"3.0.3\",\"info\":{\"title\":\"AI-LAB platform API\",\"version\":\"v1\","
      "\"description\":\"Each operation takes the request message in protobuf's JSON mapping "
      "and returns the response message.\"},",
      "\"security\":[{\"bearer\":[]}],\"paths\":{", absl::StrJoin(paths, ","), "},",
      "\"components\":{\"securitySchemes\":{\"bearer\":{\"type\":\"http\",\"scheme\":"
      "\"bearer\"}},\"schemas\":{",
      absl::StrJoin(schemas, ","), "}}}");
}

}  // namespace ailab::gateway
