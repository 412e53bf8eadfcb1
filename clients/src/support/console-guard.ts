/**
 * Cache clients report what goes wrong (data lost, an entity without a key, a
 * missing field) as console warnings and errors, not as exceptions. A check
 * installs this guard first and fails on anything the clients printed.
 */
import { format } from "node:util";

export interface ConsoleGuard {
  /** What was printed to console.warn or console.error since the guard was installed. */
  readonly printed: readonly string[];
  /** Throws, listing them, if anything was printed. */
  assertSilent(label: string): void;
  restore(): void;
}

/** Record console warnings and errors; `echo: false` keeps them off the terminal (for controls). */
export function guardConsole({ echo = true }: { echo?: boolean } = {}): ConsoleGuard {
  const printed: string[] = [];
  const { warn, error } = console;
  console.warn = (...args: unknown[]) => {
    printed.push(`warn: ${format(...args)}`);
    if (echo) warn(...args);
  };
  console.error = (...args: unknown[]) => {
    printed.push(`error: ${format(...args)}`);
    if (echo) error(...args);
  };
  return {
    printed,
    assertSilent(label) {
      if (printed.length > 0) {
        throw new Error(`${label}: the client printed ${printed.length} warning(s):\n${printed.join("\n")}`);
      }
    },
    restore() {
      console.warn = warn;
      console.error = error;
    },
  };
}
