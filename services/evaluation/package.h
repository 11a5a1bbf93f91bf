// Model packages for publishing: the model's files, and a manifest that lists each
// with its size and SHA-256 (the PackageManifest message, written as manifest.json).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ailab/evaluation/v1/publishing.pb.h"

namespace ailab::evaluation {

// File names inside a package.
inline constexpr char kTorchScriptFile[] = "model.pt";
inline constexpr char kModelCardFile[] = "model_card.json";
inline constexpr char kAssistModuleFile[] = "assist_module.xml";
inline constexpr char kManifestFile[] = "manifest.json";

// One file of a package with its bytes.
struct PackagedFile {
  std::string path;
  std::string bytes;
};

// A package ready to deliver.
struct ModelPackage {
  v1::PackageManifest manifest;
  // The listed files sorted by path, then manifest.json last.
  std::vector<PackagedFile> files;
};

// Builds the package of `model`: the TorchScript bytes, the model card JSON and, when
// given, the Assist module XML, plus manifest.json. The same inputs give the same
// package checksum.
ModelPackage BuildPackage(const std::string& model, const std::string& use_case,
                          std::string torchscript, std::string model_card,
                          std::optional<std::string> assist_module);

// Returns the manifest as JSON (snake_case keys, sizes as numbers, one file per line).
std::string ManifestJson(const v1::PackageManifest& manifest);

}  // namespace ailab::evaluation
