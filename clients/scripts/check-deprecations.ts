/**
 * The generated TypeScript must carry the schema's deprecations as `@deprecated`
 * JSDoc, so editors strike `sessionId` through and linters flag it. Read with
 * the TypeScript compiler's own parser, not a regular expression.
 */
import { readFileSync } from "node:fs";
import ts from "typescript";

const FILE = "src/generated/graphql.ts";
// Every input type the frontend's operations use carries the deprecated sessionId.
const INPUTS = ["CompleteOnboardingStepInput", "DiscoverCompetitorsInput"];

const source = ts.createSourceFile(FILE, readFileSync(FILE, "utf8"), ts.ScriptTarget.Latest, true);
const members = new Map<string, Map<string, boolean>>();
source.forEachChild((node) => {
  if (ts.isTypeAliasDeclaration(node) && ts.isTypeLiteralNode(node.type)) {
    const fields = new Map<string, boolean>();
    for (const member of node.type.members) {
      if (ts.isPropertySignature(member) && ts.isIdentifier(member.name)) {
        fields.set(member.name.text, ts.getJSDocDeprecatedTag(member) !== undefined);
      }
    }
    members.set(node.name.text, fields);
  }
});

const problems: string[] = [];
for (const input of INPUTS) {
  const fields = members.get(input);
  if (fields === undefined) {
    problems.push(`${input} is not generated`);
    continue;
  }
  if (fields.get("sessionId") !== true) problems.push(`${input}.sessionId is not @deprecated`);
  const others = [...fields].filter(([name, deprecated]) => deprecated && name !== "sessionId");
  if (others.length > 0) problems.push(`${input}: unexpected @deprecated ${others.map(([n]) => n)}`);
}
if (problems.length > 0) {
  console.error(problems.join("\n"));
  process.exit(1);
}
console.log(`generated types mark sessionId @deprecated on ${INPUTS.join(", ")}`);
