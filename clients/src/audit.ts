/**
 * The graphql-http audit suite (GraphQL over HTTP conformance) against the
 * live service. Every audit must pass: a warning (a SHOULD not met) or a
 * notice (a MAY not taken) fails this check just as an error does.
 */
import { auditServer } from "graphql-http";
import { startService } from "./support/service.js";

const service = await startService();
try {
  const results = await auditServer({ url: service.graphqlUrl });
  const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
  for (const result of results) {
    counts[result.status] += 1;
    if (result.status !== "ok") {
      const body = await result.response.text();
      console.error(`${result.status.toUpperCase()} ${result.id} ${result.name}: ${result.reason}`);
      console.error(`  HTTP ${result.response.status} ${body.slice(0, 300)}`);
    }
  }
  console.log(
    `graphql-http audits: ${counts.ok} passed, ${counts.notice} notices, ` +
      `${counts.warn} warnings, ${counts.error} failed (of ${results.length})`,
  );
  if (counts.ok !== results.length) process.exitCode = 1;
} finally {
  await service.stop();
}
