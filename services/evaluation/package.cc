#include "services/evaluation/package.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "ailab/blob/blob_store.h"

namespace ailab::evaluation {
namespace {

// Returns `text` as a JSON string literal.
std::string JsonQuote(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
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
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppend(&out, "\\u00", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
        } else {
          out += c;
        }
    }
  }
  out += "\"";
  return out;
}

}  // namespace

ModelPackage BuildPackage(const std::string& model, const std::string& use_case,
                          std::string torchscript, std::string model_card,
                          std::optional<std::string> assist_module) {
  ModelPackage package;
  if (assist_module) package.files.push_back({kAssistModuleFile, std::move(*assist_module)});
  package.files.push_back({kModelCardFile, std::move(model_card)});
  package.files.push_back({kTorchScriptFile, std::move(torchscript)});
  std::sort(package.files.begin(), package.files.end(),
            [](const PackagedFile& a, const PackagedFile& b) { return a.path < b.path; });

  package.manifest.set_model(model);
  package.manifest.set_use_case(use_case);
  std::string listing;
  for (const PackagedFile& file : package.files) {
    v1::PackageFile* entry = package.manifest.add_files();
    entry->set_path(file.path);
    entry->set_size_bytes(static_cast<int64_t>(file.bytes.size()));
    entry->set_sha256(blob::BlobStore::Sha256Hex(file.bytes));
    absl::StrAppend(&listing, entry->sha256(), "  ", entry->path(), "\n");
  }
  package.manifest.set_package_sha256(blob::BlobStore::Sha256Hex(listing));
  package.files.push_back({kManifestFile, ManifestJson(package.manifest)});
  return package;
}

std::string ManifestJson(const v1::PackageManifest& manifest) {
  std::string json = absl::StrCat("{\n  \"model\": ", JsonQuote(manifest.model()),
                                  ",\n  \"use_case\": ", JsonQuote(manifest.use_case()),
                                  ",\n  \"package_sha256\": ", JsonQuote(manifest.package_sha256()),
                                  ",\n  \"files\": [");
  for (int i = 0; i < manifest.files_size(); ++i) {
    const v1::PackageFile& file = manifest.files(i);
    absl::StrAppend(&json, i == 0 ? "\n" : ",\n", "    {\"path\": ", JsonQuote(file.path()),
                    ", \"size_bytes\": ", file.size_bytes(),
                    ", \"sha256\": ", JsonQuote(file.sha256()), "}");
  }
  absl::StrAppend(&json, "\n  ]\n}\n");
  return json;
}

}  // namespace ailab::evaluation
