// Compiles every schema named on the command line with Ajv (draft 2020-12, Ajv's default strict mode,
// formats from ajv-formats) and validates the schema's `examples`, or with `schema.json=instance.json` that
// one instance; prints {argument: {"errors": [...], "warnings": [...]}} as JSON. Ajv comes from NODE_PATH or
// a node_modules above this file. tests/unit/schemas/test_ajv_strict.py runs it.
"use strict";
const fs = require("fs");
const Ajv2020 = require("ajv/dist/2020");
const addFormats = require("ajv-formats");

const read = (path) => JSON.parse(fs.readFileSync(path, "utf8"));
const report = {};
// Every schema named is known to every other, so a `$ref` to another file (frame.json's) resolves.
const schemaPaths = process.argv.slice(2).filter((argument) => !argument.includes("="));
for (const argument of process.argv.slice(2)) {
  const [schemaPath, instancePath] = argument.split("=");
  const errors = [];
  const warnings = [];
  try {
    const ajv = new Ajv2020({ logger: { log() {}, warn: (m) => warnings.push(m), error: (m) => errors.push(m) } });
    addFormats(ajv);
    for (const other of schemaPaths) {
      if (other !== schemaPath) ajv.addSchema(read(other));
    }
    const schema = read(schemaPath);
    const validate = ajv.compile(schema);
    const instances = instancePath ? [read(instancePath)] : schema.examples || [];
    instances.forEach((instance, index) => {
      if (!validate(instance)) errors.push(`instance ${index}: ${ajv.errorsText(validate.errors)}`);
    });
  } catch (error) {
    errors.push(String(error.message || error));
  }
  report[argument] = { errors, warnings };
}
process.stdout.write(JSON.stringify(report));
