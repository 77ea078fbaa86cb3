// node-semver. Input lines on stdin:
//   cmp<TAB>a<TAB>b   -> semver.compare (strict) as -1/0/1, E if invalid
//   valid<TAB>v       -> true/false (semver.valid)
//   sat<TAB>v<TAB>r   -> semver.satisfies(v, r) as true/false; E if the range or version is invalid
// Run with NODE_PATH pointing at target/tools/node/node_modules.
const semver = require("semver");
const lines = require("fs").readFileSync(0, "utf8").split("\n");
const out = [];
for (const line of lines) {
  if (line === "") continue;
  const p = line.split("\t");
  try {
    if (p[0] === "cmp") {
      if (semver.valid(p[1]) === null || semver.valid(p[2]) === null) out.push("E");
      else out.push(String(semver.compare(p[1], p[2])));
    } else if (p[0] === "valid") {
      out.push(semver.valid(p[1]) === null ? "false" : "true");
    } else if (p[0] === "sat") {
      if (semver.validRange(p[2]) === null || semver.valid(p[1]) === null) out.push("E");
      else out.push(semver.satisfies(p[1], p[2]) ? "true" : "false");
    } else out.push("E");
  } catch (e) {
    out.push("E");
  }
}
process.stdout.write(out.join("\n") + (out.length ? "\n" : ""));
