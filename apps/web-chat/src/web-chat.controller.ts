/**
 * The web chat's API: one live stream (server-sent events) and the commands.
 *
 * `GET /api/stream` sends, as JSON `data`:
 * - `{"type":"history","messages":[...],"events":[...],"rooms":[...],"names":[...]}` first (the
 *   chat and the events so far), then
 * - `{"type":"view","view":{...}}` whenever the cluster changes (at most ~7 a second),
 * - `{"type":"events","events":[...]}`: protocol and cluster events in batches,
 * - `{"type":"messages","messages":[...]}`: chat messages with the nodes they arrived at so far.
 *
 * Commands (JSON bodies; 400 with the reason when refused): `POST /api/nodes/:node/join|leave`
 * `{"room"}`, `/send` `{"room","text"}`, `/kill`, `/restart`, `/loss` `{"packets","frames"}`;
 * `POST /api/partition` `{"groups":[["node-1","node-2"]]}`, `/api/heal`, `/api/metrics/reset`,
 * `/api/eager-all` `{"on"}`. `GET /api/view` is the current view, `GET /api/messages?room=R` the
 * chat of a room (all rooms without `room`), each message with the nodes it arrived at.
 */
import {
  BadRequestException,
  Body,
  Controller,
  Get,
  HttpCode,
  Param,
  Post,
  Query,
  Sse,
  type MessageEvent,
} from '@nestjs/common';
import {
  LocalClusterError,
  type ChatMessage,
  type ClusterEvent,
  type ClusterView,
  type LocalCluster,
} from '@plumtree/local-cluster';
import { bufferTime, concat, filter, map, merge, Observable, of } from 'rxjs';
import { LocalClusterService } from './local-cluster.service.js';
import { EagerAllDto, LossDto, PartitionDto, RoomDto, SendDto } from './web-chat.dto.js';

/** Chat updates are batched this long, ms (one SSE message per batch, not per arrival). */
const MESSAGE_BATCH_MS = 100;

@Controller('api')
export class WebChatController {
  private readonly cluster: LocalCluster;

  constructor(service: LocalClusterService) {
    this.cluster = service.cluster;
  }

  @Sse('stream')
  stream(): Observable<MessageEvent> {
    const c = this.cluster;
    const events = c.events$.pipe(
      // Chat deliveries travel in `messages`, with where they arrived.
      map((batch: ClusterEvent[]) => batch.filter((e) => e.kind !== 'delivery')),
      filter((batch) => batch.length > 0),
      map((events) => ({ type: 'events', events })),
    );
    const messages = c.messages$.pipe(
      bufferTime(MESSAGE_BATCH_MS),
      filter((batch) => batch.length > 0),
      map((batch) => ({
        type: 'messages',
        messages: [...new Map(batch.map((m) => [`${m.room} ${m.id}`, m])).values()],
      })),
    );
    const views = c.view$.pipe(map((view: ClusterView) => ({ type: 'view', view })));
    return concat(
      of({
        type: 'history',
        messages: c.history(),
        events: c.recentEvents(),
        rooms: c.rooms,
        names: c.names,
      }),
      merge(views, events, messages),
    ).pipe(map((data) => ({ data })));
  }

  @Get('view')
  view(): ClusterView {
    return this.cluster.view();
  }

  @Get('messages')
  messages(@Query('room') room?: string): ChatMessage[] {
    return this.cluster.history(room);
  }

  @Post('nodes/:node/join')
  @HttpCode(200)
  join(@Param('node') node: string, @Body() body: RoomDto): Promise<{ ok: true }> {
    return run(() => this.cluster.join(node, body.room));
  }

  @Post('nodes/:node/leave')
  @HttpCode(200)
  leave(@Param('node') node: string, @Body() body: RoomDto): Promise<{ ok: true }> {
    return run(() => this.cluster.leave(node, body.room));
  }

  @Post('nodes/:node/send')
  @HttpCode(200)
  async send(@Param('node') node: string, @Body() body: SendDto): Promise<{ id: string }> {
    try {
      return { id: await this.cluster.send(node, body.room, body.text) };
    } catch (e) {
      throw badRequest(e);
    }
  }

  @Post('nodes/:node/kill')
  @HttpCode(200)
  kill(@Param('node') node: string): Promise<{ ok: true }> {
    return run(() => this.cluster.kill(node));
  }

  @Post('nodes/:node/restart')
  @HttpCode(200)
  restart(@Param('node') node: string): Promise<{ ok: true }> {
    return run(() => this.cluster.restart(node));
  }

  @Post('nodes/:node/loss')
  @HttpCode(200)
  loss(@Param('node') node: string, @Body() body: LossDto): Promise<{ ok: true }> {
    return run(() => this.cluster.setLoss(node, body));
  }

  @Post('partition')
  @HttpCode(200)
  partition(@Body() body: PartitionDto): Promise<{ ok: true }> {
    const ok =
      body.groups.length > 0 &&
      body.groups.every((g) => Array.isArray(g) && g.every((n) => typeof n === 'string'));
    if (!ok)
      throw new BadRequestException('groups must be a non-empty array of arrays of node names');
    return run(() => this.cluster.partition(body.groups));
  }

  @Post('heal')
  @HttpCode(200)
  heal(): Promise<{ ok: true }> {
    return run(() => this.cluster.heal());
  }

  @Post('metrics/reset')
  @HttpCode(200)
  reset(): Promise<{ ok: true }> {
    return run(() => this.cluster.resetMetrics());
  }

  @Post('eager-all')
  @HttpCode(200)
  eagerAll(@Body() body: EagerAllDto): Promise<{ ok: true }> {
    return run(() => this.cluster.setEagerAll(body.on));
  }
}

/** Runs a command; a refusal of the cluster becomes a 400 with its reason. */
async function run(command: () => Promise<void> | void): Promise<{ ok: true }> {
  try {
    await command();
    return { ok: true };
  } catch (e) {
    throw badRequest(e);
  }
}

function badRequest(e: unknown): Error {
  // A refused command, or a node's own refusal (no subscriber for a hand-off, ...).
  if (e instanceof LocalClusterError || e instanceof Error)
    return new BadRequestException(e.message);
  return new BadRequestException(String(e));
}
