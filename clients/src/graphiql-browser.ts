/**
 * GraphiQL as a developer meets it: served by `onboarding-api serve`, opened in
 * headless Chromium (Debian's, driven by playwright-core; no browser download).
 * Checks that the page loads with no request leaving 127.0.0.1 and no console
 * error (a CSP violation is one), that the docs show the deprecated `sessionId`
 * of DiscoverCompetitorsInput, and that a query run with an Authorization
 * header typed into GraphiQL's headers editor shows the viewer. Leaves a
 * screenshot in artifacts/graphiql.png.
 */
import { strict as assert } from "node:assert";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Page } from "playwright-core";
import { startService } from "./support/service.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SCREENSHOT = join("artifacts", "graphiql.png");
const USER = "user_2graphiql";
const QUERY = "{\n  viewer {\n    id\n    onboarding { currentStep }\n  }\n}\n";

/** Set a GraphiQL editor's text the way typing would, through its CodeMirror. */
async function setEditor(page: Page, selector: string, text: string): Promise<void> {
  await page.locator(`${selector} .CodeMirror`).waitFor();
  await page.evaluate(
    ([css, value]) => {
      const element = document.querySelector(`${css} .CodeMirror`) as
        | (Element & { CodeMirror?: { setValue(text: string): void } })
        | null;
      if (!element?.CodeMirror) throw new Error(`no editor at ${css}`);
      element.CodeMirror.setValue(value);
    },
    [selector, text] as const,
  );
}

const service = await startService();
const profile = mkdtempSync(join(tmpdir(), "graphiql-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: CHROMIUM,
  headless: true,
  viewport: { width: 1600, height: 900 },
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ],
});
try {
  const external: string[] = [];
  await context.route("**/*", async (route) => {
    const { hostname } = new URL(route.request().url());
    if (hostname === "127.0.0.1") return route.continue();
    external.push(route.request().url());
    return route.abort();
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const problems: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));

  const response = await page.goto(`${service.graphqlUrl}`, { waitUntil: "networkidle" });
  assert.equal(response?.status(), 200);
  await page.locator(".graphiql-container").waitFor({ timeout: 30_000 });

  // The docs: Mutation → discoverCompetitors → DiscoverCompetitorsInput → sessionId, deprecated.
  await page.getByRole("button", { name: "Show Documentation Explorer" }).click();
  const docs = page.locator(".graphiql-doc-explorer");
  await docs.getByRole("link", { name: "Mutation", exact: true }).click();
  await docs.getByRole("link", { name: "discoverCompetitors", exact: true }).click();
  await docs.getByRole("link", { name: "DiscoverCompetitorsInput", exact: true }).click();
  await docs.getByRole("button", { name: /deprecated/i }).click();
  const sessionId = docs.locator(".graphiql-doc-explorer-item", { hasText: "sessionId" });
  await sessionId.waitFor();
  const deprecation = await sessionId.locator(".graphiql-doc-explorer-deprecation").innerText();
  assert.match(deprecation, /Ignored\. The user comes from the bearer token/);

  // A query with the Authorization header from GraphiQL's headers editor.
  const token = await service.issuer.mint(USER);
  await setEditor(page, ".graphiql-query-editor", QUERY);
  await page.getByRole("button", { name: "Headers", exact: true }).click();
  // The variables and headers editors share the tools pane; the hidden one has `.hidden`.
  const headers = JSON.stringify({ Authorization: `Bearer ${token}` }, null, 2);
  await setEditor(page, ".graphiql-editor-tool .graphiql-editor:not(.hidden)", headers);
  await page.getByRole("button", { name: /Execute query/ }).click();
  const result = page.locator(".graphiql-response .CodeMirror");
  await result.filter({ hasText: USER }).waitFor({ timeout: 30_000 });
  const shown = await result.innerText();
  assert.match(shown, /"currentStep": 1/);

  mkdirSync("artifacts", { recursive: true });
  await sessionId.scrollIntoViewIfNeeded();
  await page.screenshot({ path: SCREENSHOT });
  assert.deepEqual(external, [], `requests left 127.0.0.1: ${external.join(", ")}`);
  assert.deepEqual(problems, []);
  console.log(`GraphiQL in Chromium: loaded without a CDN, sessionId shown deprecated, viewer ${USER} shown; screenshot ${SCREENSHOT}`);
} catch (error) {
  await context.pages()[0]?.screenshot({ path: join("artifacts", "graphiql-failure.png") }).catch(() => undefined);
  throw error;
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
  await service.stop();
}
