// One structured logger (pino) for every process; LOG_LEVEL sets how much it says.
import pino, { type Logger } from 'pino';

export type { Logger };

/** A JSON logger named for the component; tests pass LOG_LEVEL=silent or warn to keep output short. */
export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level });
}
