import { connectHttp, startHttpPistom, type ClientEra, type HttpPistom } from '../helpers/pistom.js';
import { defineExecuteSuite } from './execute-suite.js';

const runs: Array<{ mode: 'stateless' | 'stateful'; era: ClientEra }> = [
  { mode: 'stateless', era: 'modern' },
  { mode: 'stateless', era: 'legacy' },
  { mode: 'stateless', era: 'v1' },
  { mode: 'stateful', era: 'legacy' },
  { mode: 'stateful', era: 'modern' },
];

for (const { mode, era } of runs) {
  const servers: HttpPistom[] = [];
  defineExecuteSuite(`Streamable HTTP, ${mode}, ${era} client (built CLI)`, {
    era,
    connect: async (configFile) => {
      const server = await startHttpPistom(['--config', configFile, ...(mode === 'stateful' ? ['--stateful'] : [])]);
      servers.push(server);
      const connection = await connectHttp(server.url, {}, era);
      return { ...connection, stderr: server.stderr };
    },
    teardown: async () => {
      for (const server of servers.splice(0)) await server.stop();
    },
  });
}
