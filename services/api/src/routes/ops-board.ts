import type { FastifyInstance } from 'fastify';
import type { Queue } from 'bullmq';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';

export const opsBoardPath = '/ops/queues';

/**
 * The BullMQ board (@bull-board/fastify) under `/ops/queues`, every route of it behind the ops
 * role. A browser has no x-api-key header, so these routes also take HTTP Basic (any user name,
 * the key as password) and answer 401 with a Basic challenge, which makes the browser ask.
 */
export async function registerOpsBoard(app: FastifyInstance, queue: Queue): Promise<void> {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(opsBoardPath);
  createBullBoard({
    queues: [new BullMQAdapter(queue)],
    // @bull-board/fastify 9.10.1 pins its own @bull-board/api copy; the adapter is the same at runtime.
    serverAdapter: serverAdapter as unknown as Parameters<typeof createBullBoard>[0]['serverAdapter'],
    options: { uiConfig: { boardTitle: 'sigflow batch' } },
  });
  await app.register(async (board) => {
    board.addHook('onRoute', (route) => {
      route.config = { ...(route.config as object | undefined), role: 'ops', basicChallenge: true };
    });
    await board.register(serverAdapter.registerPlugin(), { prefix: opsBoardPath });
  });
}
