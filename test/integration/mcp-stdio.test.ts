import { connectStdio } from '../helpers/pistom.js';
import { defineExecuteSuite } from './execute-suite.js';

defineExecuteSuite('stdio (built CLI)', {
  connect: (configFile) => connectStdio(['--config', configFile]),
});
