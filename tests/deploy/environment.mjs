// The deployment files of a generated service agree with the service
// itself: the Dockerfile documents exactly the variables the binary's
// configuration step reads (its --help), compose and the Kustomize base set
// only variables it reads and every one it requires, and the ports and
// probe paths are the contract's (its generated ServiceSpec).
// A gateway's files agree with the gateway binary the same way.
//   node environment.mjs <repo-root> <generated-dir> [gateway:]<proto base>=<binary>...
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const [root, generated, ...pairs] = process.argv.slice(2);
const require = createRequire(`${root}/tools/validate-deploy/package.json`);
const { parseAllDocuments } = require("yaml");
const problems = [];
const expect = (ok, what) => { if (!ok) problems.push(what); };
const sorted = (set) => [...set].sort().join(" ");
const yamlDocs = (path) =>
  parseAllDocuments(readFileSync(path, "utf8")).map((d) => d.toJS()).filter((d) => d);

// `<binary> --help`: per service, the variables it reads.
function variablesRead(binary) {
  const out = execFileSync(binary, ["--help"], { encoding: "utf8" });
  const services = new Map();
  let current = null;
  for (const line of out.split("\n")) {
    const m = /^Service (\S+) reads these environment variables/.exec(line);
    if (m) { current = new Set(); services.set(m[1], current); continue; }
    const v = /^  ([A-Z][A-Z0-9_]+)\b/.exec(line);
    if (current && v) current.add(v[1]);
  }
  return services;
}

// Per service of the Dockerfile: documented variables and the required ones.
function documented(dockerfile) {
  const services = [];
  let current = null;
  for (const line of readFileSync(dockerfile, "utf8").split("\n")) {
    if (/reads these environment variables/.test(line)) {
      current = { all: new Set(), required: new Set() };
      services.push(current);
    }
    const v = /^#   ([A-Z][A-Z0-9_]+): (.*)$/.exec(line);
    if (current && v) {
      current.all.add(v[1]);
      if (/\(required\)/.test(v[2]) && !/CPPSVC_REVOCATION_TARGET is set/.test(v[2])) current.required.add(v[1]);
    }
  }
  return services;
}

function contractPorts(serverHeader) {
  const text = readFileSync(serverHeader, "utf8");
  const names = [...text.matchAll(/\.name = "([^"]+)"/g)].map((m) => m[1]);
  const grpc = [...text.matchAll(/\.grpc_port = (\d+)/g)].map((m) => Number(m[1]));
  const admin = [...text.matchAll(/\.admin_port = (\d+)/g)].map((m) => Number(m[1]));
  return names.map((name, i) => ({ name, grpc: grpc[i], admin: admin[i] }));
}

// A gateway binary's --help: one list of variables, under its own name.
function gatewayVariablesRead(binary) {
  const out = execFileSync(binary, ["--help"], { encoding: "utf8" });
  return new Set([...out.matchAll(/^  ([A-Z][A-Z0-9_]+)$/gm)].map((m) => m[1]));
}

// The gateway's ports when nothing sets them: the runtime's GatewaySpec.
function gatewayPorts() {
  const text = readFileSync(`${root}/runtime/include/cppsvc/impl/gateway.h`, "utf8");
  return { http: Number(/http_port = (\d+)/.exec(text)[1]), admin: Number(/admin_port = (\d+)/.exec(text)[1]) };
}

const compose = yamlDocs(`${generated}/${process.env.COMPOSE ?? "commerce/compose.yaml"}`)[0];

// Where a deployment sets a variable the unit does not read, or not one it requires.
function checkSets(who, where, names, reads, required) {
  for (const n of names) expect(reads.has(n), `${who}: ${where} sets ${n}, which it does not read`);
  for (const n of required) {
    const alt = n === "CPPSVC_JWT_KEY" ? "CPPSVC_JWT_KEY_FILE" : n;
    expect(names.has(n) || names.has(alt), `${who}: ${where} does not set required ${n}`);
  }
}

function checkGateway(base, binary) {
  const who = `${base} (gateway)`;
  const name = base.split("/").pop();
  const reads = gatewayVariablesRead(binary);
  const deploy = `${generated}/${base}.cppsvc.deploy`;
  const dockerfile = readFileSync(`${deploy}/Dockerfile`, "utf8");
  const docs = documented(`${deploy}/Dockerfile`);
  const ports = gatewayPorts();
  expect(reads.size > 0 && docs.length === 1, `${who}: --help lists ${reads.size} variables, the Dockerfile documents ${docs.length} units`);
  expect(sorted(docs[0]?.all ?? []) === sorted(reads), `${who}: the Dockerfile documents [${sorted(docs[0]?.all ?? [])}], the gateway reads [${sorted(reads)}]`);
  const required = docs[0]?.required ?? new Set();
  const svc = compose.services[name];
  expect(svc, `${who}: not in compose.yaml`);
  if (svc) {
    const env = new Set(Object.keys(svc.environment ?? {}));
    checkSets(who, "compose", env, reads, required);
    expect([...env].filter((n) => n.endsWith("_ADDRESSES")).length === [...reads].filter((n) => n.endsWith("_ADDRESSES")).length, `${who}: compose does not name every backend`);
    expect(sorted(svc.expose ?? []) === sorted([String(ports.http), String(ports.admin)]), `${who}: compose exposes ${svc.expose}`);
    expect(JSON.stringify(svc.healthcheck?.test ?? []).includes(`127.0.0.1/${ports.admin} `), `${who}: compose health check is not on ${ports.admin}`);
  }
  const objects = ["configmap", "deployment", "service"].flatMap((f) => yamlDocs(`${deploy}/k8s/${f}.yaml`));
  const config = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === `${name}-config`);
  const deployment = objects.find((o) => o.kind === "Deployment" && o.metadata.name === name);
  const c = deployment?.spec.template.spec.containers[0];
  expect(config && c, `${who}: no ConfigMap or Deployment`);
  if (config && c) {
    checkSets(who, "the Kustomize base", new Set([...Object.keys(config.data), ...(c.env ?? []).map((e) => e.name)]), reads, required);
    const port = (n) => c.ports.find((p) => p.name === n)?.containerPort;
    expect(port("http") === ports.http && port("admin") === ports.admin, `${who}: container ports ${port("http")}/${port("admin")}`);
    expect(c.readinessProbe.httpGet.path === "/readyz" && c.livenessProbe.httpGet.path === "/healthz", `${who}: probes`);
    expect(c.args === undefined, `${who}: the gateway takes no arguments`);
  }
  expect(new RegExp(`^EXPOSE ${ports.http} ${ports.admin}$`, "m").test(dockerfile), `${who}: the Dockerfile does not EXPOSE ${ports.http} ${ports.admin}`);
  expect(/^HEALTHCHECK .*\n.*\/healthz/m.test(dockerfile) && !/^CMD \[/m.test(dockerfile), `${who}: HEALTHCHECK or CMD`);
}

for (const pair of pairs) {
  const [base, binary] = pair.split("=");
  if (base.startsWith("gateway:")) {
    checkGateway(base.slice("gateway:".length), binary);
    continue;
  }
  const read = variablesRead(binary);
  const deploy = `${generated}/${base}.cppsvc.deploy`;
  const dockerfile = readFileSync(`${deploy}/Dockerfile`, "utf8");
  const docs = documented(`${deploy}/Dockerfile`);
  const specs = contractPorts(`${generated}/${base}.cppsvc.server.h`);
  const objects = ["configmap", "deployment", "service"].flatMap((f) => yamlDocs(`${deploy}/k8s/${f}.yaml`));
  expect(specs.length > 0 && docs.length === specs.length, `${base}: ${docs.length} services documented, ${specs.length} in the contract`);
  specs.forEach((spec, i) => {
    const who = `${base} (${spec.name})`;
    const reads = read.get(spec.name) ?? new Set();
    expect(reads.size > 0, `${who}: --help lists no variable`);
    expect(sorted(docs[i]?.all ?? []) === sorted(reads), `${who}: the Dockerfile documents [${sorted(docs[i]?.all ?? [])}], the service reads [${sorted(reads)}]`);
    const check = (where, names) => checkSets(who, where, names, reads, docs[i]?.required ?? []);
    const svc = compose.services[spec.name.replaceAll("_", "-")];
    expect(svc, `${who}: not in compose.yaml`);
    if (svc) {
      check("compose", new Set(Object.keys(svc.environment ?? {})));
      expect(sorted(svc.expose ?? []) === sorted([String(spec.grpc), String(spec.admin)]), `${who}: compose exposes ${svc.expose}`);
      expect(JSON.stringify(svc.healthcheck?.test ?? []).includes(`127.0.0.1/${spec.admin} `) && JSON.stringify(svc.healthcheck.test).includes("/healthz"), `${who}: compose health check is not /healthz on ${spec.admin}`);
    }
    const dns = spec.name.replaceAll("_", "-");
    const config = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === `${dns}-config`);
    const deployment = objects.find((o) => o.kind === "Deployment" && o.metadata.name === dns);
    const c = deployment?.spec.template.spec.containers[0];
    expect(config && c, `${who}: no ConfigMap or Deployment`);
    if (config && c) {
      check("the Kustomize base", new Set([...Object.keys(config.data), ...(c.env ?? []).map((e) => e.name)]));
      const port = (name) => c.ports.find((p) => p.name === name)?.containerPort;
      expect(port("grpc") === spec.grpc && port("admin") === spec.admin, `${who}: container ports ${port("grpc")}/${port("admin")}`);
      expect(c.readinessProbe.httpGet.path === "/readyz" && c.readinessProbe.httpGet.port === "admin", `${who}: readiness probe`);
      expect(c.livenessProbe.httpGet.path === "/healthz" && c.livenessProbe.httpGet.port === "admin", `${who}: liveness probe`);
      const delay = Number(config.data[`${spec.name.toUpperCase().replaceAll("-", "_")}_SHUTDOWN_DELAY_MS`]);
      const drain = Number(config.data[`${spec.name.toUpperCase().replaceAll("-", "_")}_DRAIN_TIMEOUT_MS`]);
      expect(c.lifecycle.preStop.exec.command.join(" ") === `sleep ${delay / 1000}`, `${who}: preStop does not sleep ${delay} ms`);
      expect(deployment.spec.template.spec.terminationGracePeriodSeconds * 1000 > 2 * delay + drain, `${who}: grace period too short`);
    }
    expect(new RegExp(`^EXPOSE ${spec.grpc} ${spec.admin}$`, "m").test(dockerfile), `${who}: the Dockerfile does not EXPOSE ${spec.grpc} ${spec.admin}`);
  });
  expect(/^HEALTHCHECK .*\n.*\/healthz/m.test(dockerfile), `${base}: no HEALTHCHECK on /healthz`);
}
for (const p of problems) console.error(`FAIL: ${p}`);
if (problems.length) process.exit(1);
console.log(`ok: ${pairs.length} service and gateway binaries agree with their deployment files`);
