#!/usr/bin/env node
// Validates OpenAPI documents with @apidevtools/swagger-parser (the OpenAPI
// 3.0 schema, every $ref resolving), then checks what the parser checks for
// Swagger 2.0 only: unique operationIds, and each path's {variables}
// declared as the required path parameters of each of its operations.
//   validate.js <file or directory>...   (directories: every *.openapi.json below)
'use strict';

const fs = require('fs');
const path = require('path');
const SwaggerParser = require('@apidevtools/swagger-parser');

function documentsUnder(entry) {
  if (!fs.statSync(entry).isDirectory()) return [entry];
  return fs
    .readdirSync(entry, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((d) => {
      const p = path.join(entry, d.name);
      if (d.isDirectory()) return documentsUnder(p);
      return d.name.endsWith('.openapi.json') ? [p] : [];
    });
}

const kMethods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

// Problems the OpenAPI 3.0 schema cannot express, as messages.
function checkOperations(api) {
  const problems = [];
  const ids = new Map();
  for (const [route, item] of Object.entries(api.paths)) {
    const vars = [...route.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
    for (const method of kMethods.filter((m) => item[m])) {
      const op = item[method];
      const where = `${method.toUpperCase()} ${route}`;
      if (op.operationId !== undefined) {
        const other = ids.get(op.operationId);
        if (other) problems.push(`${where}: operationId ${op.operationId} also on ${other}`);
        ids.set(op.operationId, where);
      }
      const params = [...(item.parameters || []), ...(op.parameters || [])].filter(
        (p) => p.in === 'path',
      );
      const declared = params.map((p) => p.name).sort();
      if (JSON.stringify(declared) !== JSON.stringify(vars)) {
        problems.push(`${where}: path parameters [${declared}] are not the path's [${vars}]`);
      }
      for (const p of params.filter((p) => p.required !== true)) {
        problems.push(`${where}: path parameter ${p.name} is not required`);
      }
    }
  }
  return problems;
}

async function main(args) {
  if (args.length === 0) {
    console.error('usage: validate.js <file or directory>...');
    return 2;
  }
  const files = args.flatMap(documentsUnder);
  if (files.length === 0) {
    console.error(`no *.openapi.json under ${args.join(' ')}`);
    return 1;
  }
  let failed = 0;
  for (const file of files) {
    try {
      const api = await SwaggerParser.validate(JSON.parse(fs.readFileSync(file, 'utf8')));
      if (!String(api.openapi).startsWith('3.0.')) throw new Error(`not OpenAPI 3.0: ${api.openapi}`);
      const problems = checkOperations(api);
      if (problems.length > 0) throw new Error(problems.join('\n  '));
      console.log(`ok: ${file} (${Object.keys(api.paths).length} paths)`);
    } catch (err) {
      failed++;
      console.error(`FAIL: ${file}: ${err.message}`);
    }
  }
  console.log(`${files.length - failed} of ${files.length} documents valid`);
  return failed === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then((code) => process.exit(code));
