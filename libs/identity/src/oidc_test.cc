#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>

#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "ailab/identity/identity.h"
#include "ailab/status/status.h"
#include "fixtures.h"

namespace ailab::identity {
namespace {

using Json = nlohmann::json;

constexpr char kIssuer[] = "https://sso.hospital.test/realms/radiology";
constexpr char kAudience[] = "ailab-web";
const absl::Time kNow = absl::FromUnixSeconds(1800000000);

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

std::string Base64Url(const std::string& bytes) { return absl::WebSafeBase64Escape(bytes); }

std::string BignumParam(EVP_PKEY* key, const char* name, int pad_to = 0) {
  BIGNUM* number = nullptr;
  REQUIRE(EVP_PKEY_get_bn_param(key, name, &number) == 1);
  const int size = pad_to > 0 ? pad_to : BN_num_bytes(number);
  std::string bytes(size, '\0');
  REQUIRE(BN_bn2binpad(number, reinterpret_cast<unsigned char*>(bytes.data()), size) == size);
  BN_free(number);
  return bytes;
}

std::string SignSha256(EVP_PKEY* key, const std::string& data) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                  EVP_MD_CTX_free);
  REQUIRE(EVP_DigestSignInit(context.get(), nullptr, EVP_sha256(), nullptr, key) == 1);
  size_t length = 0;
  REQUIRE(EVP_DigestSign(context.get(), nullptr, &length,
                         reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1);
  std::string signature(length, '\0');
  REQUIRE(EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()),
                         &length, reinterpret_cast<const unsigned char*>(data.data()),
                         data.size()) == 1);
  signature.resize(length);
  return signature;
}

// Converts a DER ECDSA signature to the JOSE form r || s, 32 bytes each.
std::string DerToJose(const std::string& der) {
  const unsigned char* cursor = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* signature = d2i_ECDSA_SIG(nullptr, &cursor, static_cast<long>(der.size()));
  REQUIRE(signature != nullptr);
  std::string jose(64, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(signature), reinterpret_cast<unsigned char*>(jose.data()), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(signature), reinterpret_cast<unsigned char*>(jose.data()) + 32,
               32);
  ECDSA_SIG_free(signature);
  return jose;
}

// An RSA and an EC key made for the test run, their JWKS and a token signer.
struct Keys {
  Pkey rsa{EVP_RSA_gen(2048)};
  Pkey ec{EVP_EC_gen("P-256")};

  std::string Jwks() const {
    Json rsa_key = {{"kty", "RSA"},
                    {"kid", "rsa-1"},
                    {"use", "sig"},
                    {"alg", "RS256"},
                    {"n", Base64Url(BignumParam(rsa.get(), OSSL_PKEY_PARAM_RSA_N))},
                    {"e", Base64Url(BignumParam(rsa.get(), OSSL_PKEY_PARAM_RSA_E))}};
    Json ec_key = {{"kty", "EC"},
                   {"kid", "ec-1"},
                   {"crv", "P-256"},
                   {"x", Base64Url(BignumParam(ec.get(), OSSL_PKEY_PARAM_EC_PUB_X, 32))},
                   {"y", Base64Url(BignumParam(ec.get(), OSSL_PKEY_PARAM_EC_PUB_Y, 32))}};
    return Json{{"keys", Json::array({rsa_key, ec_key})}}.dump();
  }

  OidcOptions Options() const {
    OidcOptions options;
    options.issuer = kIssuer;
    options.audience = kAudience;
    options.jwks_json = Jwks();
    return options;
  }

  std::string Sign(const Json& header, const Json& claims) const {
    const std::string signed_part =
        absl::StrCat(Base64Url(header.dump()), ".", Base64Url(claims.dump()));
    const std::string algorithm = header.value("alg", "");
    std::string signature;
    if (algorithm == "RS256") signature = SignSha256(rsa.get(), signed_part);
    if (algorithm == "ES256") signature = DerToJose(SignSha256(ec.get(), signed_part));
    return absl::StrCat(signed_part, ".", Base64Url(signature));
  }
};

Json Claims() {
  return {{"iss", kIssuer},
          {"aud", kAudience},
          {"sub", "f:1234:jones"},
          {"email", "Jones@Hospital.test"},
          {"name", "Dr. Jones"},
          {"roles", Json::array({"radiologist", "surgeon", "reviewer", "radiologist"})},
          {"iat", absl::ToUnixSeconds(kNow) - 10},
          {"exp", absl::ToUnixSeconds(kNow) + 300}};
}

Json RsaHeader() { return {{"alg", "RS256"}, {"kid", "rsa-1"}, {"typ", "JWT"}}; }

void CheckRejected(const absl::StatusOr<OidcClaims>& result, const std::string& reason) {
  REQUIRE_FALSE(result.ok());
  CHECK(result.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(GetErrorReason(result.status()) == reason);
}

TEST_CASE("VerifyIdToken: valid RS256 token") {
  Keys keys;
  auto claims = VerifyIdToken(keys.Sign(RsaHeader(), Claims()), keys.Options(), kNow);
  REQUIRE(claims.ok());
  CHECK(claims->subject == "f:1234:jones");
  CHECK(claims->email == "Jones@Hospital.test");
  CHECK(claims->name == "Dr. Jones");
  CHECK(claims->roles == std::vector<std::string>{"radiologist", "reviewer"});
  CHECK(claims->expires == kNow + absl::Seconds(300));
}

TEST_CASE("VerifyIdToken: valid ES256 token") {
  Keys keys;
  Json claims = Claims();
  claims["aud"] = Json::array({"other-client", kAudience});
  auto result = VerifyIdToken(keys.Sign({{"alg", "ES256"}, {"kid", "ec-1"}}, claims),
                              keys.Options(), kNow);
  REQUIRE(result.ok());
  CHECK(result->subject == "f:1234:jones");
}

TEST_CASE("VerifyIdToken: wrong kid rejected") {
  Keys keys;
  CheckRejected(VerifyIdToken(keys.Sign({{"alg", "RS256"}, {"kid", "rsa-2"}}, Claims()),
                              keys.Options(), kNow),
                "TOKEN_KEY_UNKNOWN");
  CheckRejected(VerifyIdToken(keys.Sign({{"alg", "RS256"}}, Claims()), keys.Options(), kNow),
                "TOKEN_KEY_UNKNOWN");
  // An RS256 header naming the EC key.
  CheckRejected(VerifyIdToken(keys.Sign({{"alg", "RS256"}, {"kid", "ec-1"}}, Claims()),
                              keys.Options(), kNow),
                "TOKEN_KEY_MISMATCH");
}

TEST_CASE("VerifyIdToken: wrong issuer or audience rejected") {
  Keys keys;
  Json wrong_issuer = Claims();
  wrong_issuer["iss"] = "https://evil.test";
  CheckRejected(VerifyIdToken(keys.Sign(RsaHeader(), wrong_issuer), keys.Options(), kNow),
                "TOKEN_ISSUER_MISMATCH");
  Json wrong_audience = Claims();
  wrong_audience["aud"] = "another-app";
  CheckRejected(VerifyIdToken(keys.Sign(RsaHeader(), wrong_audience), keys.Options(), kNow),
                "TOKEN_AUDIENCE_MISMATCH");
  Json no_audience = Claims();
  no_audience.erase("aud");
  CheckRejected(VerifyIdToken(keys.Sign(RsaHeader(), no_audience), keys.Options(), kNow),
                "TOKEN_AUDIENCE_MISMATCH");
}

TEST_CASE("VerifyIdToken: expiry and not-before with leeway") {
  Keys keys;
  const std::string token = keys.Sign(RsaHeader(), Claims());
  CHECK(VerifyIdToken(token, keys.Options(), kNow + absl::Seconds(359)).ok());
  CheckRejected(VerifyIdToken(token, keys.Options(), kNow + absl::Seconds(360)), "TOKEN_EXPIRED");

  Json later = Claims();
  later["nbf"] = absl::ToUnixSeconds(kNow) + 120;
  const std::string early = keys.Sign(RsaHeader(), later);
  CheckRejected(VerifyIdToken(early, keys.Options(), kNow), "TOKEN_NOT_YET_VALID");
  CHECK(VerifyIdToken(early, keys.Options(), kNow + absl::Seconds(60)).ok());

  Json no_expiry = Claims();
  no_expiry.erase("exp");
  CheckRejected(VerifyIdToken(keys.Sign(RsaHeader(), no_expiry), keys.Options(), kNow),
                "TOKEN_MALFORMED");
}

TEST_CASE("VerifyIdToken: alg none rejected") {
  Keys keys;
  const std::string token = absl::StrCat(Base64Url(Json{{"alg", "none"}}.dump()), ".",
                                         Base64Url(Claims().dump()), ".");
  CheckRejected(VerifyIdToken(token, keys.Options(), kNow), "TOKEN_ALGORITHM_REJECTED");
}

TEST_CASE("VerifyIdToken: HS256 with public key rejected") {
  Keys keys;
  // The classic confusion attack: an HMAC keyed with the published RSA modulus.
  const std::string secret = BignumParam(keys.rsa.get(), OSSL_PKEY_PARAM_RSA_N);
  const std::string signed_part =
      absl::StrCat(Base64Url(Json{{"alg", "HS256"}, {"kid", "rsa-1"}}.dump()), ".",
                   Base64Url(Claims().dump()));
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size(), digest,
       &length);
  const std::string token = absl::StrCat(
      signed_part, ".", Base64Url(std::string(reinterpret_cast<const char*>(digest), length)));
  CheckRejected(VerifyIdToken(token, keys.Options(), kNow), "TOKEN_ALGORITHM_REJECTED");
}

TEST_CASE("VerifyIdToken: tampered payload rejected") {
  Keys keys;
  const std::string token = keys.Sign(RsaHeader(), Claims());
  Json forged = Claims();
  forged["roles"] = Json::array({"administrator"});
  const size_t first_dot = token.find('.');
  const size_t second_dot = token.find('.', first_dot + 1);
  const std::string tampered = absl::StrCat(token.substr(0, first_dot + 1),
                                            Base64Url(forged.dump()), token.substr(second_dot));
  CheckRejected(VerifyIdToken(tampered, keys.Options(), kNow), "TOKEN_SIGNATURE_INVALID");

  const std::string es_token = keys.Sign({{"alg", "ES256"}, {"kid", "ec-1"}}, Claims());
  std::string es_tampered = es_token;
  es_tampered[es_tampered.size() - 2] = es_tampered[es_tampered.size() - 2] == 'A' ? 'B' : 'A';
  CheckRejected(VerifyIdToken(es_tampered, keys.Options(), kNow), "TOKEN_SIGNATURE_INVALID");
}

TEST_CASE("VerifyIdToken: token from another key set rejected") {
  Keys keys;
  Keys other;
  CheckRejected(VerifyIdToken(other.Sign(RsaHeader(), Claims()), keys.Options(), kNow),
                "TOKEN_SIGNATURE_INVALID");
}

TEST_CASE("VerifyIdToken: malformed tokens rejected") {
  Keys keys;
  for (const char* token : {"", "abc", "a.b", "a.b.c.d", "!!!.e30.", "e30.e30.e30"}) {
    INFO("token \"" << token << "\"");
    absl::StatusOr<OidcClaims> result = VerifyIdToken(token, keys.Options(), kNow);
    REQUIRE_FALSE(result.ok());
    CHECK(result.status().code() == absl::StatusCode::kUnauthenticated);
  }
  OidcOptions off;
  CheckRejected(VerifyIdToken(keys.Sign(RsaHeader(), Claims()), off, kNow), "OIDC_DISABLED");
}

TEST_CASE("IdentityApi: ID token creates and updates user") {
  Keys keys;
  testing::ScratchDatabase database;
  auto pool = pg::Pool::Create({database.url(), 2, "identity"});
  REQUIRE(pool.ok());
  REQUIRE((*pool)->Migrate(IdentityApi::Migrations()).ok());
  IdentityOptions options;
  options.password = {64, 1, 1};
  options.oidc = keys.Options();
  auto api = IdentityApi::Create(pool->get(), options);
  REQUIRE(api.ok());

  const std::string token = keys.Sign(RsaHeader(), Claims());
  auto principal = (*api)->Authenticate(absl::StrCat("Bearer ", token), kNow);
  REQUIRE(principal.ok());
  CHECK(principal->username == "jones@hospital.test");
  CHECK(principal->display_name == "Dr. Jones");
  CHECK(principal->roles == std::vector<std::string>{"radiologist", "reviewer"});
  CHECK(principal->session_id.empty());
  CHECK(principal->expires == kNow + absl::Seconds(300));

  // The same subject with other roles is the same user, with the new roles.
  Json promoted = Claims();
  promoted["roles"] = Json::array({"data_manager"});
  auto again = (*api)->Authenticate(absl::StrCat("Bearer ", keys.Sign(RsaHeader(), promoted)),
                                    kNow);
  REQUIRE(again.ok());
  CHECK(again->user_id == principal->user_id);
  CHECK(again->roles == std::vector<std::string>{"data_manager"});

  // No known role in the claim: the default roles.
  Json unknown_roles = Claims();
  unknown_roles["sub"] = "f:5678:smith";
  unknown_roles["email"] = "smith@hospital.test";
  unknown_roles["roles"] = Json::array({"surgeon"});
  auto smith = (*api)->Authenticate(
      absl::StrCat("Bearer ", keys.Sign(RsaHeader(), unknown_roles)), kNow);
  REQUIRE(smith.ok());
  CHECK(smith->user_id != principal->user_id);
  CHECK(smith->roles == std::vector<std::string>{"radiologist"});

  Json wrong_issuer = Claims();
  wrong_issuer["iss"] = "https://evil.test";
  auto rejected = (*api)->Authenticate(
      absl::StrCat("Bearer ", keys.Sign(RsaHeader(), wrong_issuer)), kNow);
  REQUIRE_FALSE(rejected.ok());
  CHECK(rejected.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(GetErrorReason(rejected.status()) == "TOKEN_INVALID");
  auto info = GetErrorInfo(rejected.status());
  REQUIRE(info.has_value());
  CHECK(info->metadata().at("check") == "TOKEN_ISSUER_MISMATCH");
}

}  // namespace
}  // namespace ailab::identity
