/**
 * The cold-start benchmark's reference: the smallest MCP server the official SDK (v2) makes, one
 * tool over stdio. Plain JavaScript, so that nothing but Node, the SDK and zod is loaded.
 */
import { McpServer } from '@modelcontextprotocol/server';
import { StdioServerTransport } from '@modelcontextprotocol/server/stdio';
import { z } from 'zod';

const server = new McpServer({ name: 'bare', version: '0.0.0' });
server.registerTool('echo', { inputSchema: z.object({ text: z.string() }) }, async ({ text }) => ({ content: [{ type: 'text', text }] }));
await server.connect(new StdioServerTransport());
