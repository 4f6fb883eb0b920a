import { connectHttp, startHttpPistom, type HttpPistom } from '../helpers/pistom.js';
import { defineExecuteSuite } from './execute-suite.js';

for (const mode of ['stateless', 'stateful'] as const) {
  const servers: HttpPistom[] = [];
  defineExecuteSuite(`Streamable HTTP, ${mode} (built CLI)`, {
    connect: async (configFile) => {
      const server = await startHttpPistom(['--config', configFile, ...(mode === 'stateful' ? ['--stateful'] : [])]);
      servers.push(server);
      const connection = await connectHttp(server.url);
      return { ...connection, stderr: server.stderr };
    },
    teardown: async () => {
      for (const server of servers.splice(0)) await server.stop();
    },
  });
}
