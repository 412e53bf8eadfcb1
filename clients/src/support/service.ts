/**
 * The real service for the Node checks: `onboarding-api serve` on a free
 * 127.0.0.1 port, SQLite in a temporary directory, the offline catalog, and
 * tokens from an RS256 issuer whose JWKS this process serves on 127.0.0.1.
 * Options run it as one of several processes on one database instead.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { type AddressInfo, createServer as createTcpServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { exportJWK, generateKeyPair, type CryptoKey, SignJWT } from "jose";

const clientsDir = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const ISSUER = "https://issuer.clients.test";
const KEY_ID = "clients-key-1";

export interface Issuer {
  readonly jwksUrl: string;
  readonly issuer: string;
  /**
   * A 60-second RS256 session token for `sub`, as a Clerk-style issuer mints it;
   * a numeric `exp` among the claims is kept instead (an expired token, say).
   */
  mint(sub: string, claims?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

export interface ServiceOptions {
  /** The issuer whose tokens it accepts; by default one of its own, stopped with it. */
  readonly issuer?: Issuer;
  /** Its data directory (processes on one database share one, and so its secret key). */
  readonly dataDir?: string;
  /** More ONBOARDING_* settings, e.g. ONBOARDING_DATABASE_URL. */
  readonly env?: Readonly<Record<string, string>>;
}

export interface Service {
  readonly url: string;
  readonly graphqlUrl: string;
  /** The same endpoint for WebSocket clients (subscriptions). */
  readonly websocketUrl: string;
  readonly issuer: Issuer;
  readonly log: () => string;
  stop(): Promise<void>;
}

function listening(server: Server): Promise<number> {
  return new Promise((done, fail) => {
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => done((server.address() as AddressInfo).port));
  });
}

export async function startIssuer(): Promise<Issuer> {
  const { publicKey, privateKey } = await generateKeyPair("RS256", { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: KEY_ID, alg: "RS256", use: "sig" };
  const body = JSON.stringify({ keys: [jwk] });
  const server = createServer((request, response) => {
    if (request.url !== "/.well-known/jwks.json") {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { "content-type": "application/json" }).end(body);
  });
  const port = await listening(server);
  const key: CryptoKey = privateKey;
  return {
    jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    issuer: ISSUER,
    mint: (sub, claims = {}) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: "RS256", kid: KEY_ID, typ: "JWT" })
        .setIssuer(ISSUER)
        .setSubject(sub)
        .setIssuedAt()
        .setExpirationTime(typeof claims.exp === "number" ? claims.exp : "60s")
        .sign(key),
    close: () => new Promise((done) => server.close(() => done())),
  };
}

async function freePort(): Promise<number> {
  const probe = createTcpServer();
  await new Promise<void>((done) => probe.listen(0, "127.0.0.1", done));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((done) => probe.close(() => done()));
  return port;
}

function cliPath(): string {
  return process.env.ONBOARDING_API_BIN ?? join(clientsDir, "..", ".venv", "bin", "onboarding-api");
}

function cleanEnvironment(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith("ONBOARDING_") && !name.startsWith("EXA_")) env[name] = value;
  }
  return { ...env, ...extra };
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) done();
    else child.once("exit", () => done());
  });
}

export async function startService(options: ServiceOptions = {}): Promise<Service> {
  const issuer = options.issuer ?? (await startIssuer());
  const workDir = mkdtempSync(join(tmpdir(), "onboarding-clients-"));
  const port = await freePort();
  const logPath = join(workDir, "serve.log");
  const logFd = openSync(logPath, "w");
  const child = spawn(cliPath(), ["serve", "--host", "127.0.0.1", "--port", String(port)], {
    cwd: workDir,
    env: cleanEnvironment({
      ONBOARDING_DATA_DIR: options.dataDir ?? join(workDir, "data"),
      ONBOARDING_JWKS_URL: issuer.jwksUrl,
      ONBOARDING_JWT_ISSUER: issuer.issuer,
      ONBOARDING_COMPETITOR_PROVIDER: "catalog",
      ...options.env,
    }),
    stdio: ["ignore", logFd, logFd],
  });
  const log = (): string => readFileSync(logPath, "utf8");
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    child.kill("SIGTERM");
    await exited(child);
    if (options.issuer === undefined) await issuer.close();
    rmSync(workDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) {
      const output = log();
      await stop();
      throw new Error(`onboarding-api serve exited with ${child.exitCode}:\n${output}`);
    }
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`onboarding-api serve did not answer /healthz within 60 s:\n${log()}`);
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  return {
    url,
    graphqlUrl: `${url}/graphql`,
    websocketUrl: `ws://127.0.0.1:${port}/graphql`,
    issuer,
    log,
    stop,
  };
}
