// What every Apollo Server here (the gateway's and each subgraph's) is built with: nothing
// leaves the machine, the process's own signal handler stops it, stack traces only when asked
// for, and its log lines go to our logger.
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import {
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import type { Logger } from './logger';

/** The logger shape Apollo Server and @apollo/gateway take, writing to ours. */
export interface ApolloLogger {
  debug(message?: unknown): void;
  info(message?: unknown): void;
  warn(message?: unknown): void;
  error(message?: unknown): void;
}

export function apolloLogger(logger: Logger): ApolloLogger {
  return {
    debug: (m) => logger.debug(m),
    info: (m) => logger.info(m),
    warn: (m) => logger.warn(m),
    error: (m) => logger.error(m),
  };
}

/** No landing page from a CDN, no usage or schema reporting to a vendor. */
export function offlinePlugins<C extends BaseContext>(): ApolloServerPlugin<C>[] {
  return [ApolloServerPluginLandingPageDisabled(), ApolloServerPluginUsageReportingDisabled(), ApolloServerPluginSchemaReportingDisabled()];
}

/** The options both sides pass to `new ApolloServer` besides their schema, plugins and caches. */
export function apolloServerOptions(logger: Logger, debugErrors: boolean | undefined) {
  return {
    // Apollo's default follows NODE_ENV (traces unless "production" or "test"), and a
    // deployment that leaves NODE_ENV unset would show every client the server's file paths.
    includeStacktraceInErrorResponses: debugErrors ?? false,
    // The process's own signal handler stops everything in order (consumer groups left
    // cleanly); Apollo's would stop the server and re-send the signal first.
    stopOnTerminationSignals: false,
    logger: apolloLogger(logger),
  };
}
