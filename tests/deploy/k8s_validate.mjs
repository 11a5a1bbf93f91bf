// Validates Kubernetes objects against the API schemas compiled into the npm packages
// kubernetes-models and @kubernetes-models/keda (installed by deploy/install-helm.sh).
//
//   node k8s_validate.mjs NODE_MODULES_DIR OBJECTS.json
//
// OBJECTS.json is a JSON array of objects. Besides the schema's own checks (types,
// enums, required fields, formats), the script rejects fields that the schema does not
// define, as `kubectl apply` does with strict field validation: the compiled
// validators read every property that the schema knows, so a property that the
// validator never read is unknown. Prints one line per object and exits 1 when any
// object is invalid or has no schema.
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [modulesDir, objectsPath] = process.argv.slice(2);
if (!modulesDir || !objectsPath) {
  console.error("usage: node k8s_validate.mjs NODE_MODULES_DIR OBJECTS.json");
  process.exit(2);
}

// Packages whose models cover the API groups of the chart, searched in order.
const packages = ["kubernetes-models", "@kubernetes-models/keda"];

// Returns the compiled validate function for apiVersion/kind, or null.
async function findValidator(apiVersion, kind) {
  for (const pkg of packages) {
    const model = join(modulesDir, pkg, apiVersion, `${kind}.js`);
    if (!existsSync(model)) continue;
    // Each model module imports its validator from ../../_schemas/<Name>.js.
    const match = readFileSync(model, "utf8").match(/from\s*"(\.\.\/[^"]*_schemas\/[^"]+)"/);
    if (!match) continue;
    const schemaPath = join(modulesDir, pkg, apiVersion, match[1]);
    const module = await import(pathToFileURL(schemaPath).href);
    return module.validate;
  }
  return null;
}

// Wraps `value` so that every property read is recorded in `reads` (path -> keys).
function track(value, path, reads) {
  if (value === null || typeof value !== "object") return value;
  if (!reads.has(path)) reads.set(path, new Set());
  return new Proxy(value, {
    get(target, key, receiver) {
      const child = Reflect.get(target, key, receiver);
      if (typeof key !== "string") return child;
      reads.get(path).add(key);
      return track(child, `${path}/${key}`, reads);
    },
  });
}

// Lists the properties of `value` that the validator never read.
function unknownFields(value, path, reads, found) {
  if (value === null || typeof value !== "object") return found;
  const read = reads.get(path);
  if (!read) return found;  // The validator did not descend here; nothing to compare.
  for (const key of Object.keys(value)) {
    if (!Array.isArray(value) && !read.has(key)) {
      found.push(`${path}/${key}`);
      continue;
    }
    unknownFields(value[key], `${path}/${key}`, reads, found);
  }
  return found;
}

const objects = JSON.parse(readFileSync(objectsPath, "utf8"));
let failures = 0;
for (const object of objects) {
  const label = `${object.kind}/${object.metadata?.name} (${object.apiVersion})`;
  const validate = await findValidator(object.apiVersion, object.kind);
  if (!validate) {
    console.log(`NO SCHEMA ${label}: no model for ${object.apiVersion} ${object.kind} in ${packages.join(", ")}`);
    failures++;
    continue;
  }
  const reads = new Map();
  const valid = validate(track(object, "", reads));
  const problems = [];
  if (!valid) {
    for (const error of validate.errors ?? []) {
      problems.push(`${error.instancePath || "/"}: ${error.keyword} ${JSON.stringify(error.params)}`);
    }
  }
  for (const field of unknownFields(object, "", reads, [])) {
    problems.push(`${field}: unknown field (not in the ${object.apiVersion} ${object.kind} schema)`);
  }
  if (problems.length === 0) {
    console.log(`VALID ${label}`);
  } else {
    failures++;
    console.log(`INVALID ${label}`);
    for (const problem of problems) console.log(`  ${problem}`);
  }
}
console.log(`${objects.length - failures} valid, ${failures} invalid`);
process.exit(failures === 0 ? 0 : 1);
