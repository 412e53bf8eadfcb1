/**
 * A fresh PostgreSQL database for a check, made the way the Python tests make
 * theirs (tests/support/databases.py): on the server every developer and CI
 * machine runs on 127.0.0.1:5432 (database `test`, trust authentication), or
 * the one ONBOARDING_TEST_DATABASE_URL names. The service migrates it as it starts.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";

const LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/test";

export interface FreshDatabase {
  /** For ONBOARDING_DATABASE_URL. */
  readonly url: string;
  drop(): Promise<void>;
}

function adminUrl(): URL {
  const configured = process.env.ONBOARDING_TEST_DATABASE_URL;
  // The Python tests' variable is an SQLAlchemy URL: `postgresql+asyncpg://…`.
  return new URL((configured ?? LOCAL_SERVER).replace(/^postgresql\+asyncpg:/, "postgresql:"));
}

async function asAdmin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl().href });
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
  const url = adminUrl();
  url.pathname = `/${name}`;
  return {
    url: url.href.replace(/^postgresql:/, "postgresql+asyncpg:"),
    drop: () => asAdmin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  };
}
