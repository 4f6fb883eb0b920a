import { connectStdio, CLIENT_ERAS } from '../helpers/pistom.js';
import { defineExecuteSuite } from './execute-suite.js';

for (const era of CLIENT_ERAS) {
  defineExecuteSuite(`stdio, ${era} client (built CLI)`, {
    era,
    connect: (configFile) => connectStdio(['--config', configFile], {}, era),
  });
}
