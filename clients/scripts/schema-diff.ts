/**
 * Schema evolution: `graphql-inspector diff` from the last released SDL
 * (schema/released/schema.graphql, see SCHEMA_CHANGELOG.md) to the committed
 * one. A breaking change fails; deprecations and other safe changes are
 * listed and pass. Then a control: the same command must fail on a schema
 * with `Query.viewer` removed, so a silent inspector cannot pass this check.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kind, parse, print, visit } from "graphql";

const RELEASED = "../schema/released/schema.graphql";
const CURRENT = "../schema/schema.graphql";

function diff(before: string, after: string, quiet: boolean): { status: number; output: string } {
  const run = spawnSync("graphql-inspector", ["diff", before, after], {
    encoding: "utf8",
    shell: false,
    env: { ...process.env, PATH: `node_modules/.bin:${process.env.PATH ?? ""}` },
  });
  const output = `${run.stdout}${run.stderr}`;
  if (!quiet) process.stdout.write(output);
  return { status: run.status ?? 1, output };
}

const real = diff(RELEASED, CURRENT, false);
if (real.status !== 0) {
  console.error("schema diff: breaking changes since the last release (see above)");
  process.exit(1);
}

const scratch = mkdtempSync(join(tmpdir(), "schema-diff-"));
try {
  const withoutViewer = visit(parse(readFileSync(CURRENT, "utf8")), {
    ObjectTypeDefinition(node) {
      if (node.name.value !== "Query") return undefined;
      return { ...node, fields: node.fields?.filter((field) => field.name.value !== "viewer") };
    },
  });
  if (withoutViewer.kind !== Kind.DOCUMENT) throw new Error("unexpected AST");
  const broken = join(scratch, "broken.graphql");
  writeFileSync(broken, print(withoutViewer));
  const control = diff(CURRENT, broken, true);
  if (control.status === 0 || !control.output.includes("viewer")) {
    console.error(`schema diff control: removing Query.viewer was not reported as breaking:\n${control.output}`);
    process.exit(1);
  }
  console.log("schema diff: no breaking change since the release; control (Query.viewer removed) fails as it must");
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
