// Imported first by the runners of benchmark-only packages (the Hive Gateway contenders): when
// bench/node_modules lacks them, the runner exits with one line saying to run
// `npm run bench:install`, before its import of the package fails with a stack.
import { exitUnlessContendersInstalled } from './contenders';

exitUnlessContendersInstalled();
