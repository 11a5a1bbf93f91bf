// OpenID Connect ID token checks (RFC 7515 compact JWS, RFC 7517 JWK, RFC 7518 RS256
// and ES256) with OpenSSL 3 EVP and nlohmann::json.
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "ailab/identity/identity.h"
#include "ailab/status/status.h"

namespace ailab::identity {
namespace {

using Json = nlohmann::json;

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* context) const { EVP_PKEY_CTX_free(context); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* builder) const { OSSL_PARAM_BLD_free(builder); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* params) const { OSSL_PARAM_free(params); }
};
struct BnFree {
  void operator()(BIGNUM* number) const { BN_free(number); }
};
struct EcdsaSigFree {
  void operator()(ECDSA_SIG* signature) const { ECDSA_SIG_free(signature); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Bignum = std::unique_ptr<BIGNUM, BnFree>;

absl::Status Rejected(absl::string_view reason, absl::string_view message) {
  return MakeError(absl::StatusCode::kUnauthenticated, reason,
                   absl::StrCat("the ID token was rejected: ", message));
}

bool DecodeBase64Url(absl::string_view text, std::string* out) {
  for (char c : text) {
    const bool allowed = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                         (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!allowed) return false;
  }
  return absl::WebSafeBase64Unescape(text, out);
}

// Parses base64url-encoded JSON that must be an object.
bool DecodeJsonObject(absl::string_view part, Json* out) {
  std::string text;
  if (!DecodeBase64Url(part, &text)) return false;
  *out = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  return out->is_object();
}

std::string StringMember(const Json& object, const char* key) {
  auto found = object.find(key);
  if (found == object.end() || !found->is_string()) return "";
  return found->get<std::string>();
}

Bignum BignumFromBase64Url(const Json& jwk, const char* key) {
  std::string bytes;
  if (!DecodeBase64Url(StringMember(jwk, key), &bytes) || bytes.empty()) return nullptr;
  return Bignum(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()), nullptr));
}

Pkey KeyFromParams(const char* type, OSSL_PARAM_BLD* builder) {
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(builder));
  if (params == nullptr) return nullptr;
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> context(
      EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (context == nullptr || EVP_PKEY_fromdata_init(context.get()) != 1 ||
      EVP_PKEY_fromdata(context.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return nullptr;
  }
  return Pkey(key);
}

Pkey RsaKeyFromJwk(const Json& jwk) {
  Bignum n = BignumFromBase64Url(jwk, "n");
  Bignum e = BignumFromBase64Url(jwk, "e");
  // Keys below 2048 bits are too weak to trust (NIST SP 800-131A).
  if (n == nullptr || e == nullptr || BN_num_bits(n.get()) < 2048) return nullptr;
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> builder(OSSL_PARAM_BLD_new());
  if (builder == nullptr || OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
    return nullptr;
  }
  return KeyFromParams("RSA", builder.get());
}

Pkey EcKeyFromJwk(const Json& jwk) {
  if (StringMember(jwk, "crv") != "P-256") return nullptr;
  std::string x;
  std::string y;
  if (!DecodeBase64Url(StringMember(jwk, "x"), &x) || !DecodeBase64Url(StringMember(jwk, "y"), &y) ||
      x.size() != 32 || y.size() != 32) {
    return nullptr;
  }
  // Uncompressed point encoding (SEC 1): 0x04 || x || y.
  const std::string point = absl::StrCat("\x04", x, y);
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> builder(OSSL_PARAM_BLD_new());
  static char kGroup[] = "prime256v1";
  if (builder == nullptr ||
      OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, kGroup, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return nullptr;
  }
  return KeyFromParams("EC", builder.get());
}

// Converts a JOSE ES256 signature (32-byte r || 32-byte s) to the DER form OpenSSL
// verifies; empty when the size is wrong.
std::string EcdsaSignatureToDer(const std::string& jose) {
  if (jose.size() != 64) return "";
  std::unique_ptr<ECDSA_SIG, EcdsaSigFree> signature(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(jose.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(jose.data()) + 32, 32, nullptr);
  if (signature == nullptr || r == nullptr || s == nullptr ||
      ECDSA_SIG_set0(signature.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return "";
  }
  unsigned char* der = nullptr;
  const int length = i2d_ECDSA_SIG(signature.get(), &der);
  if (length <= 0) return "";
  std::string result(reinterpret_cast<const char*>(der), length);
  OPENSSL_free(der);
  return result;
}

bool VerifySha256(EVP_PKEY* key, absl::string_view data, const std::string& signature) {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> context(EVP_MD_CTX_new());
  if (context == nullptr ||
      EVP_DigestVerifyInit(context.get(), nullptr, EVP_sha256(), nullptr, key) != 1) {
    return false;
  }
  return EVP_DigestVerify(context.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                          data.size()) == 1;
}

// Reads a NumericDate claim; false when it is present but not a number.
bool ReadTime(const Json& claims, const char* key, bool* present, absl::Time* time) {
  auto found = claims.find(key);
  *present = found != claims.end();
  if (!*present) return true;
  if (!found->is_number()) return false;
  const double seconds = found->get<double>();
  if (!std::isfinite(seconds)) return false;
  *time = absl::FromUnixMicros(static_cast<int64_t>(seconds * 1e6));
  return true;
}

}  // namespace

absl::StatusOr<OidcClaims> VerifyIdToken(absl::string_view token, const OidcOptions& options,
                                         absl::Time now) {
  if (options.issuer.empty()) {
    return Rejected("OIDC_DISABLED", "single sign-on is not configured");
  }
  std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  if (parts.size() != 3) {
    return Rejected("TOKEN_MALFORMED", "expected 3 parts separated by \".\"");
  }
  Json header;
  if (!DecodeJsonObject(parts[0], &header)) {
    return Rejected("TOKEN_MALFORMED", "the header is not base64url JSON");
  }
  const std::string algorithm = StringMember(header, "alg");
  if (algorithm != "RS256" && algorithm != "ES256") {
    return Rejected("TOKEN_ALGORITHM_REJECTED",
                    absl::StrCat("algorithm \"", algorithm, "\" is not allowed; only RS256 and "
                                 "ES256 are accepted"));
  }
  const std::string kid = StringMember(header, "kid");

  Json jwks = Json::parse(options.jwks_json, nullptr, /*allow_exceptions=*/false);
  if (!jwks.is_object() || !jwks.contains("keys") || !jwks["keys"].is_array()) {
    return Rejected("JWKS_INVALID", "the configured JSON Web Key Set has no \"keys\" array");
  }
  const Json* jwk = nullptr;
  for (const Json& candidate : jwks["keys"]) {
    if (candidate.is_object() && StringMember(candidate, "kid") == kid) {
      jwk = &candidate;
      break;
    }
  }
  if (kid.empty() || jwk == nullptr) {
    return Rejected("TOKEN_KEY_UNKNOWN",
                    absl::StrCat("key id \"", kid, "\" is not in the configured key set"));
  }
  const std::string key_type = StringMember(*jwk, "kty");
  const std::string key_algorithm = StringMember(*jwk, "alg");
  const std::string key_use = StringMember(*jwk, "use");
  const bool type_matches = (algorithm == "RS256" && key_type == "RSA") ||
                            (algorithm == "ES256" && key_type == "EC");
  if (!type_matches || (!key_algorithm.empty() && key_algorithm != algorithm) ||
      (!key_use.empty() && key_use != "sig")) {
    return Rejected("TOKEN_KEY_MISMATCH",
                    absl::StrCat("key \"", kid, "\" (", key_type, ") is not for ", algorithm));
  }
  Pkey key = algorithm == "RS256" ? RsaKeyFromJwk(*jwk) : EcKeyFromJwk(*jwk);
  if (key == nullptr) {
    return Rejected("JWKS_INVALID", absl::StrCat("key \"", kid, "\" in the key set is invalid"));
  }

  std::string signature;
  if (!DecodeBase64Url(parts[2], &signature) || signature.empty()) {
    return Rejected("TOKEN_MALFORMED", "the signature is not base64url");
  }
  if (algorithm == "ES256") signature = EcdsaSignatureToDer(signature);
  const std::string signed_part = absl::StrCat(parts[0], ".", parts[1]);
  if (signature.empty() || !VerifySha256(key.get(), signed_part, signature)) {
    return Rejected("TOKEN_SIGNATURE_INVALID", "the signature does not match");
  }

  Json claims;
  if (!DecodeJsonObject(parts[1], &claims)) {
    return Rejected("TOKEN_MALFORMED", "the payload is not base64url JSON");
  }
  const std::string issuer = StringMember(claims, "iss");
  if (issuer != options.issuer) {
    return Rejected("TOKEN_ISSUER_MISMATCH",
                    absl::StrCat("issuer \"", issuer, "\" is not the configured \"",
                                 options.issuer, "\""));
  }
  bool audience_matches = false;
  if (claims.contains("aud")) {
    const Json& audience = claims["aud"];
    if (audience.is_string()) audience_matches = audience.get<std::string>() == options.audience;
    if (audience.is_array()) {
      for (const Json& entry : audience) {
        if (entry.is_string() && entry.get<std::string>() == options.audience) {
          audience_matches = true;
        }
      }
    }
  }
  if (!audience_matches) {
    return Rejected("TOKEN_AUDIENCE_MISMATCH",
                    absl::StrCat("the audience does not include \"", options.audience, "\""));
  }

  OidcClaims result;
  bool has_expiry = false;
  bool has_not_before = false;
  absl::Time not_before;
  if (!ReadTime(claims, "exp", &has_expiry, &result.expires) || !has_expiry) {
    return Rejected("TOKEN_MALFORMED", "the \"exp\" claim is missing or not a number");
  }
  if (!ReadTime(claims, "nbf", &has_not_before, &not_before)) {
    return Rejected("TOKEN_MALFORMED", "the \"nbf\" claim is not a number");
  }
  if (now >= result.expires + options.leeway) {
    return Rejected("TOKEN_EXPIRED",
                    absl::StrCat("the token expired at ", absl::FormatTime(result.expires),
                                 "; sign in at the identity provider again"));
  }
  if (has_not_before && now + options.leeway < not_before) {
    return Rejected("TOKEN_NOT_YET_VALID",
                    absl::StrCat("the token is valid only from ", absl::FormatTime(not_before),
                                 "; check the clocks of this server and the identity provider"));
  }

  result.subject = StringMember(claims, "sub");
  if (result.subject.empty()) return Rejected("TOKEN_MALFORMED", "the \"sub\" claim is missing");
  result.email = StringMember(claims, "email");
  result.name = StringMember(claims, "name");
  auto roles = claims.find(options.roles_claim);
  if (roles != claims.end() && roles->is_array()) {
    for (const Json& role : *roles) {
      if (!role.is_string()) continue;
      const std::string name = role.get<std::string>();
      for (const char* known : {rpc::kRoleAdministrator, rpc::kRoleReviewer,
                                rpc::kRoleDataManager, rpc::kRoleRadiologist,
                                rpc::kRoleParticipant}) {
        const bool listed =
            std::find(result.roles.begin(), result.roles.end(), name) != result.roles.end();
        if (name == known && !listed) result.roles.push_back(name);
      }
    }
  }
  return result;
}

}  // namespace ailab::identity
