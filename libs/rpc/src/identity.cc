#include "ailab/rpc/identity.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "ailab/config/flags.h"
#include "ailab/log/log.h"
#include "ailab/rpc/internal_caller.h"
#include "ailab/rpc/status.h"
#include "ailab/status/status.h"
#include "identity_internal.h"
#include "nlohmann/json.hpp"

namespace ailab::rpc {
namespace {

constexpr absl::string_view kVersion = "v1";
// Latest "exp" a payload may carry: 9999-12-31T23:59:59Z, well inside a double's exact
// integer range.
constexpr int64_t kMaxExpirySeconds = 253402300799;

std::string HmacSha256(absl::string_view key, absl::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  // An empty key is allowed (no --internal_token on a developer's machine); HMAC()
  // needs a non-null pointer for it.
  static const unsigned char kEmpty = 0;
  const void* key_data = key.empty() ? static_cast<const void*>(&kEmpty) : key.data();
  HMAC(EVP_sha256(), key_data, static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &length);
  return std::string(reinterpret_cast<const char*>(digest), length);
}

bool EqualInConstantTime(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// Decodes base64url without padding, rejecting any other spelling of the same bytes.
bool DecodeBase64Url(absl::string_view text, std::string* out) {
  if (text.empty()) return false;
  for (char c : text) {
    const bool allowed = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                         (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!allowed) return false;
  }
  if (!absl::WebSafeBase64Unescape(text, out)) return false;
  return absl::WebSafeBase64Escape(*out) == text;
}

void AppendJsonString(std::string& out, absl::string_view text) {
  out.push_back('"');
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          static constexpr char kHex[] = "0123456789abcdef";
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xf]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

std::string PayloadJson(const Identity& identity) {
  int64_t expiry = absl::ToUnixSeconds(identity.expires);
  expiry = std::clamp<int64_t>(expiry, 0, kMaxExpirySeconds);
  std::string json = "{\"sub\":";
  AppendJsonString(json, identity.user);
  json += ",\"roles\":[";
  for (size_t i = 0; i < identity.roles.size(); ++i) {
    if (i > 0) json.push_back(',');
    AppendJsonString(json, identity.roles[i]);
  }
  absl::StrAppend(&json, "],\"exp\":", expiry, ",\"rid\":");
  AppendJsonString(json, identity.request_id);
  json.push_back('}');
  return json;
}

absl::Status Invalid(absl::string_view problem) {
  return MakeError(absl::StatusCode::kUnauthenticated, "IDENTITY_INVALID",
                   absl::StrCat("the x-ailab-identity metadata is invalid: ", problem,
                                "; send requests through the gateway, which signs it with the ",
                                "platform's --internal_token"),
                   {{"problem", problem}});
}

absl::StatusOr<Identity> ParsePayload(absl::string_view json) {
  // nlohmann::json, because protobuf's JSON parser took 12 microseconds for a payload
  // (into a google.protobuf.Struct) and this one 1.2, on every call of every service.
  const nlohmann::json payload =
      nlohmann::json::parse(json.begin(), json.end(), nullptr, /*allow_exceptions=*/false);
  if (!payload.is_object()) return Invalid("payload is not a JSON object");
  Identity identity;

  auto sub = payload.find("sub");
  if (sub == payload.end() || !sub->is_string() || sub->get_ref<const std::string&>().empty()) {
    return Invalid("payload has no \"sub\" string");
  }
  identity.user = sub->get<std::string>();

  auto roles = payload.find("roles");
  if (roles == payload.end() || !roles->is_array()) {
    return Invalid("payload has no \"roles\" array");
  }
  for (const nlohmann::json& role : *roles) {
    if (!role.is_string()) return Invalid("\"roles\" has an entry that is not a string");
    identity.roles.push_back(role.get<std::string>());
  }

  auto exp = payload.find("exp");
  if (exp == payload.end() || !exp->is_number()) {
    return Invalid("payload has no \"exp\" number");
  }
  const double seconds = exp->get<double>();
  if (!std::isfinite(seconds) || seconds < 0 || seconds > static_cast<double>(kMaxExpirySeconds) ||
      seconds != std::floor(seconds)) {
    return Invalid("\"exp\" is not whole Unix seconds");
  }
  identity.expires = absl::FromUnixSeconds(static_cast<int64_t>(seconds));

  auto rid = payload.find("rid");
  if (rid != payload.end()) {
    if (!rid->is_string()) return Invalid("\"rid\" is not a string");
    identity.request_id = rid->get<std::string>();
  }
  return identity;
}

std::optional<std::string> FindMetadata(const grpc::ServerContextBase& context,
                                        absl::string_view key) {
  const auto& metadata = context.client_metadata();
  auto found = metadata.find(grpc::string_ref(key.data(), key.size()));
  if (found == metadata.end()) return std::nullopt;
  return std::string(found->second.data(), found->second.size());
}

}  // namespace

bool Identity::HasRole(absl::string_view role) const {
  for (const std::string& held : roles) {
    if (held == role || held == kRoleAdministrator) return true;
  }
  return false;
}

std::string SignIdentity(const Identity& identity, absl::string_view key) {
  const std::string signed_part =
      absl::StrCat(kVersion, ".", absl::WebSafeBase64Escape(PayloadJson(identity)));
  return absl::StrCat(signed_part, ".", absl::WebSafeBase64Escape(HmacSha256(key, signed_part)));
}

absl::StatusOr<Identity> VerifyIdentity(absl::string_view value, absl::string_view key,
                                        absl::Time now) {
  std::vector<absl::string_view> parts = absl::StrSplit(value, '.');
  if (parts.size() != 3) return Invalid("expected 3 parts separated by \".\"");
  if (parts[0] != kVersion) return Invalid("version is not \"v1\"");

  std::string signature;
  if (!DecodeBase64Url(parts[2], &signature)) return Invalid("signature is not base64url");
  const std::string signed_part = absl::StrCat(parts[0], ".", parts[1]);
  if (!EqualInConstantTime(signature, HmacSha256(key, signed_part))) {
    return Invalid("signature does not match");
  }

  std::string json;
  if (!DecodeBase64Url(parts[1], &json)) return Invalid("payload is not base64url");
  AILAB_ASSIGN_OR_RETURN(Identity identity, ParsePayload(json));
  if (now >= identity.expires) {
    return MakeError(absl::StatusCode::kUnauthenticated, "IDENTITY_EXPIRED",
                     absl::StrCat("the x-ailab-identity of user \"", identity.user,
                                  "\" expired at ", absl::FormatTime(identity.expires),
                                  "; retry the request through the gateway"),
                     {{"user", identity.user}});
  }
  return identity;
}

void AddIdentity(grpc::ClientContext& context, const Identity& identity) {
  context.AddMetadata(kIdentityKey, SignIdentity(identity, absl::GetFlag(FLAGS_internal_token)));
}

namespace internal {

absl::StatusOr<CallerInfo> ResolveCaller(const CallerMetadata& metadata,
                                         absl::string_view configured_token, absl::Time now) {
  CallerInfo caller;
  caller.internal =
      configured_token.empty() ||
      (metadata.internal_token.has_value() &&
       EqualInConstantTime(*metadata.internal_token, configured_token));

  if (metadata.identity.has_value()) {
    AILAB_ASSIGN_OR_RETURN(caller.identity,
                           VerifyIdentity(*metadata.identity, configured_token, now));
    return caller;
  }
  if (metadata.user.has_value()) {
    if (!caller.internal) {
      return MakeError(absl::StatusCode::kUnauthenticated, "USER_UNSIGNED",
                       absl::StrCat("the call names user \"", *metadata.user,
                                    "\" in x-ailab-user without the internal token; send "
                                    "requests through the gateway, or set --internal_token"),
                       {{"user", *metadata.user}});
    }
    if (metadata.user->empty()) {
      return MakeError(absl::StatusCode::kUnauthenticated, "USER_UNSIGNED",
                       "the x-ailab-user metadata is empty; set it to a user id or leave it out");
    }
    Identity identity;
    identity.user = *metadata.user;
    identity.expires = absl::InfiniteFuture();
    caller.identity = std::move(identity);
    return caller;
  }
  if (!caller.internal) {
    return MakeError(absl::StatusCode::kUnauthenticated, "CALLER_UNKNOWN",
                     "the call carries neither a signed x-ailab-identity nor the platform's "
                     "internal token; send requests through the gateway, or give the tool "
                     "AILAB_INTERNAL_TOKEN (var/secrets/internal.token on a single machine)");
  }
  return caller;
}

}  // namespace internal

absl::StatusOr<CallerInfo> CallerOf(const grpc::ServerContextBase& context) {
  internal::CallerMetadata metadata;
  metadata.identity = FindMetadata(context, kIdentityKey);
  metadata.user = FindMetadata(context, kUserKey);
  metadata.internal_token = FindMetadata(context, kInternalTokenKey);
  absl::StatusOr<CallerInfo> caller =
      internal::ResolveCaller(metadata, absl::GetFlag(FLAGS_internal_token), absl::Now());
  if (!caller.ok()) {
    log::Logger("rpc")->warn("caller rejected reason={} peer={}", GetErrorReason(caller.status()),
                             context.peer());
  }
  return caller;
}

grpc::Status CheckCaller(const grpc::ServerContextBase& context) {
  absl::StatusOr<CallerInfo> caller = CallerOf(context);
  return caller.ok() ? grpc::Status::OK : ToGrpcStatus(caller.status());
}

}  // namespace ailab::rpc
