/**
 * Copies GraphiQL, React and ReactDOM (the versions pinned in package.json)
 * from node_modules into the Python package, so `pip install` alone serves
 * GraphiQL without a CDN and without Node. `--check` only compares, and fails
 * when the committed copy differs from what `npm ci` installed.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const target = join(here, "..", "..", "app", "static", "graphiql");
const require = createRequire(import.meta.url);

/** Where each vendored file comes from: [package, path inside it, name served]. */
const ASSETS: ReadonlyArray<readonly [string, string, string]> = [
  ["react", "umd/react.production.min.js", "react.production.min.js"],
  ["react-dom", "umd/react-dom.production.min.js", "react-dom.production.min.js"],
  ["graphiql", "graphiql.min.js", "graphiql.min.js"],
  ["graphiql", "graphiql.min.css", "graphiql.min.css"],
  ["graphiql", "LICENSE", "LICENSE.graphiql"],
  ["react", "LICENSE", "LICENSE.react"],
];

function packageRoot(name: string): string {
  return dirname(require.resolve(`${name}/package.json`));
}

function version(name: string): string {
  const manifest = JSON.parse(readFileSync(join(packageRoot(name), "package.json"), "utf8")) as {
    version: string;
  };
  return manifest.version;
}

function sha256(data: Buffer | string): string {
  return createHash("sha256").update(data).digest("hex");
}

const wanted = new Map<string, Buffer | string>();
for (const [pkg, path, name] of ASSETS) {
  wanted.set(name, readFileSync(join(packageRoot(pkg), path)));
}
const versions = { graphiql: version("graphiql"), react: version("react"), "react-dom": version("react-dom") };
const sums = Object.fromEntries([...wanted].map(([name, data]) => [name, sha256(data)]));
wanted.set("manifest.json", `${JSON.stringify({ versions, sha256: sums }, null, 2)}\n`);

if (process.argv.includes("--check")) {
  const stale = [...wanted].filter(([name, data]) => {
    const path = join(target, name);
    return !existsSync(path) || sha256(readFileSync(path)) !== sha256(data);
  });
  if (stale.length > 0) {
    console.error(
      `app/static/graphiql differs from the pinned packages: ${stale.map(([n]) => n).join(", ")}.\n` +
        "Run `npm run vendor-graphiql` in clients/ and commit the result.",
    );
    process.exit(1);
  }
  console.log(`vendored GraphiQL matches the pinned packages: ${JSON.stringify(versions)}`);
} else {
  mkdirSync(target, { recursive: true });
  for (const [name, data] of wanted) writeFileSync(join(target, name), data);
  console.log(`vendored ${wanted.size} files into ${target}: ${JSON.stringify(versions)}`);
}
