// `npm start`: brings the local system up in the foreground and takes it down on Ctrl-C.
// Today that is Kafka, Redis and the topics; subgraphs, gateway and the simulator join here
// as they are built.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const infra = (command: 'up' | 'down') =>
  spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, 'infra.ts'), command], { stdio: 'inherit' }).status ?? 1;

if (infra('up') !== 0) process.exit(1);
console.log('\nstreamgraph is up: Kafka and Redis are running and the topics exist. Ctrl-C stops what was started.');
const keepAlive = setInterval(() => undefined, 1 << 30);
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  clearInterval(keepAlive);
  console.log('\nstopping...');
  process.exit(infra('down'));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
