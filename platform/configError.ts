// A setting is wrong or missing: the message is one line saying what and how to fix it.
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
