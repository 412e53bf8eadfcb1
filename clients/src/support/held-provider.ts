/**
 * A competitor provider that answers like Exa (`/findSimilar`, `/search`) on
 * 127.0.0.1, but only once the check lets it: until then a discovery's job
 * stays RUNNING, so a subscriber can see it RUNNING, then COMPLETED.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export const HELD_PROVIDER_KEY = "held-provider-key";

export interface HeldProvider {
  readonly baseUrl: string;
  /** Settled when the provider is first asked for competitors (the job is RUNNING). */
  readonly asked: Promise<void>;
  /** Answer every request held so far, and every later one at once. */
  release(): void;
  close(): Promise<void>;
}

function competitors(count: number): unknown[] {
  return Array.from({ length: count }, (_, rank) => {
    const url = `https://www.competitor-${rank + 1}.com/`;
    return {
      id: url,
      url,
      title: `Competitor ${rank + 1}`,
      score: 0.9 - rank * 0.01,
      publishedDate: "2024-01-01",
      author: null,
      image: null,
      favicon: null,
      text: "What the competitor sells.",
      highlights: [`Why competitor ${rank + 1} competes`],
      highlightScores: [0.5],
      summary: `Competitor ${rank + 1} sells the same things.`,
    };
  });
}

export async function startHeldProvider(): Promise<HeldProvider> {
  let released = false;
  let letGo: () => void = () => undefined;
  const gate = new Promise<void>((done) => {
    letGo = done;
  });
  let noteAsked: () => void = () => undefined;
  const asked = new Promise<void>((done) => {
    noteAsked = done;
  });
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => {
      body += chunk.toString();
    });
    request.on("end", () => {
      const parsed = JSON.parse(body || "{}") as { numResults?: number };
      const answer = (results: unknown[]) =>
        response
          .writeHead(200, { "content-type": "application/json" })
          .end(JSON.stringify({ requestId: "held", results }));
      if (request.url === "/findSimilar") {
        noteAsked();
        void gate.then(() => answer(competitors(parsed.numResults ?? 10)));
      } else {
        answer([]);
      }
    });
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    asked,
    release() {
      if (!released) {
        released = true;
        letGo();
      }
    },
    close: () => {
      letGo();
      server.closeAllConnections();
      return new Promise((done) => server.close(() => done()));
    },
  };
}
