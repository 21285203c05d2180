/**
 * The screen of `plumtree chat`, drawn with ink (React for terminals): the users bar, the room as
 * the current user's node received it, the colour-coded event log, the metrics panel, the status
 * and the input line. Everything shown comes from the local cluster's reports; the keys
 * (chat-keys.ts) act on the real node processes.
 */
import { Box, Text, useApp, useInput, useStdout } from 'ink';
import {
  createElement as h,
  useEffect,
  useReducer,
  useRef,
  useState,
  type ReactElement,
} from 'react';
import type { ChatMessage, ClusterEvent, ClusterView, LocalCluster } from '@plumtree/local-cluster';
import {
  logLine,
  messageLine,
  METRICS_HEADERS,
  metricsRow,
  nodeState,
  statusLine,
  type LogLine,
} from './chat-format.js';
import { actionsFor, LOSS_KEY_RATE, type ChatAction } from './chat-keys.js';

/** Log lines kept. */
const MAX_LOG = 200;

/** Props of {@link ChatApp}. */
export interface ChatAppProps {
  readonly cluster: LocalCluster;
  /** The room the chat speaks in. */
  readonly room: string;
}

/** The whole screen. */
export function ChatApp({ cluster, room }: ChatAppProps): ReactElement {
  const { exit } = useApp();
  const { stdout } = useStdout();
  const [view, setView] = useState<ClusterView>(cluster.view());
  const [log, setLog] = useState<LogLine[]>([]);
  const [messages, setMessages] = useState<ChatMessage[]>(cluster.history(room));
  // What keys change lives in a ref, read and written synchronously by the key handler: keys
  // typed faster than React re-renders (a paste, tmux send-keys) each see the previous key's
  // effect, never a stale copy.
  const ui = useRef({
    user: 0,
    mode: 'normal' as 'normal' | 'typing',
    draft: '',
    showMetrics: true,
    notice: '',
  }).current;
  const [, rerender] = useReducer((x: number) => x + 1, 0);
  const latest = useRef(view);
  latest.current = view;
  const [size, setSize] = useState({ columns: stdout.columns || 100, rows: stdout.rows || 30 });

  useEffect(() => {
    const subs = [
      cluster.view$.subscribe(setView),
      cluster.events$.subscribe((batch: ClusterEvent[]) => {
        const lines = batch.map(logLine).filter((l): l is LogLine => l !== undefined);
        if (lines.length > 0) setLog((old) => [...old, ...lines].slice(-MAX_LOG));
      }),
      cluster.messages$.subscribe(() => setMessages(cluster.history(room))),
    ];
    const onResize = (): void => setSize({ columns: stdout.columns, rows: stdout.rows });
    stdout.on('resize', onResize);
    return () => {
      for (const s of subs) s.unsubscribe();
      stdout.off('resize', onResize);
    };
  }, [cluster, room, stdout]);

  const act = (what: string, p: Promise<unknown>): void => {
    p.catch((e: unknown) => {
      ui.notice = `${what}: ${(e as Error).message}`;
      rerender();
    });
  };

  useInput((input, key) => {
    let changed = false;
    for (const a of actionsFor(ui.mode, input, key)) changed = apply(a) || changed;
    if (changed) rerender();
  });

  /** Runs one action; whether the screen changes. */
  function apply(a: ChatAction): boolean {
    const nodes = latest.current.nodes;
    const me = nodes[Math.min(ui.user, nodes.length - 1)]!;
    if (a.type !== 'none') ui.notice = '';
    switch (a.type) {
      case 'quit':
        exit();
        break;
      case 'type':
        ui.mode = 'typing';
        break;
      case 'cancel':
        ui.mode = 'normal';
        ui.draft = '';
        break;
      case 'input':
        ui.draft = (ui.draft + a.text).slice(0, 2_000);
        break;
      case 'backspace':
        ui.draft = ui.draft.slice(0, -1);
        break;
      case 'send': {
        const text = ui.draft.trim();
        ui.mode = 'normal';
        ui.draft = '';
        if (text !== '') act('send', cluster.send(me.name, room, text));
        break;
      }
      case 'user':
        if (a.index < nodes.length) ui.user = a.index;
        break;
      case 'user-step':
        ui.user = (ui.user + a.by + nodes.length) % nodes.length;
        break;
      case 'offline-toggle':
        if (me.process === 'running') act('offline', cluster.kill(me.name));
        else if (me.process === 'killed' || me.process === 'exited') {
          act('online', cluster.restart(me.name));
        }
        break;
      case 'loss-toggle': {
        const on = me.faults.packetLoss === 0 && me.faults.frameLoss === 0;
        const r = on ? LOSS_KEY_RATE : 0;
        act('loss', cluster.setLoss(me.name, { packets: r, frames: r }));
        break;
      }
      case 'eager-toggle':
        act('eager', cluster.setEagerAll(!latest.current.eagerAll));
        break;
      case 'reset-metrics':
        cluster.resetMetrics();
        break;
      case 'metrics-toggle':
        ui.showMetrics = !ui.showMetrics;
        break;
      case 'none':
        return false;
    }
    return true;
  }

  const { user, mode, draft, showMetrics, notice } = ui;
  const nodes = view.nodes;
  const me = nodes[Math.min(user, nodes.length - 1)]!;
  const roomView = view.rooms.find((r) => r.name === room);

  const metricsHeight = showMetrics ? nodes.length + 2 : 0;
  // Header 1, users 1, borders 2, status 1, input 1, help 1.
  const bodyRows = Math.max(4, size.rows - 7 - metricsHeight);
  const logWidth = Math.max(30, Math.floor(size.columns * 0.42));

  return h(
    Box,
    { flexDirection: 'column', width: size.columns, height: size.rows },
    h(
      Box,
      { justifyContent: 'space-between' },
      h(
        Text,
        { bold: true },
        `plumtree chat · #${room} · ${nodes.length.toString()} node processes on 127.0.0.1`,
      ),
      h(
        Text,
        { color: 'gray' },
        `cluster RMR ${view.totals.rmr === null ? '-' : view.totals.rmr.toFixed(2)}`,
      ),
    ),
    h(
      Box,
      { flexWrap: 'wrap' },
      ...nodes.map((n, i) => {
        const s = nodeState(n);
        const lossy = n.faults.packetLoss > 0 || n.faults.frameLoss > 0;
        return h(
          Text,
          { key: n.name, inverse: i === user, color: s.colour },
          ` ${((i + 1) % 10).toString()}:${n.name.replace('node-', 'n')}${lossy ? '~' : ''} `,
        );
      }),
    ),
    h(
      Box,
      { height: bodyRows + 2 },
      h(
        Box,
        {
          flexDirection: 'column',
          flexGrow: 1,
          borderStyle: 'round',
          borderColor: 'blue',
          overflow: 'hidden',
        },
        ...renderMessages(messages, me.name, bodyRows),
      ),
      h(
        Box,
        {
          flexDirection: 'column',
          width: logWidth,
          borderStyle: 'round',
          borderColor: 'gray',
          overflow: 'hidden',
        },
        ...log
          .slice(-bodyRows)
          .map((l, i) =>
            h(
              Text,
              { key: `${l.time}-${i.toString()}`, wrap: 'truncate' },
              h(Text, { color: 'gray' }, `${l.time} `),
              l.node !== '' ? `${l.node.replace('node-', 'n')} ` : '',
              h(Text, { color: l.colour, bold: true }, l.label.padEnd(8)),
              ` ${l.text}`,
            ),
          ),
      ),
    ),
    showMetrics
      ? h(
          Box,
          { flexDirection: 'column', height: metricsHeight },
          h(Text, { color: 'gray' }, 'metrics (M hides, R resets) · eager/lazy: links in the room'),
          ...table([METRICS_HEADERS, ...nodes.map((n) => metricsRow(n, roomView))]).map(
            (line, i) =>
              i === 0
                ? h(Text, { key: 'head', bold: true }, line)
                : h(
                    Text,
                    { key: nodes[i - 1]!.name, color: i - 1 === user ? 'cyan' : undefined },
                    line,
                  ),
          ),
        )
      : null,
    h(
      Text,
      { color: nodeState(me).colour, bold: true, wrap: 'truncate' },
      statusLine(me, roomView, view.eagerAll),
      view.reconfiguring ? ' · restarting trees…' : '',
      notice !== '' ? h(Text, { color: 'redBright' }, ` · ${notice}`) : '',
    ),
    mode === 'typing'
      ? h(
          Text,
          {},
          h(Text, { color: 'cyan' }, `${me.name}> `),
          draft,
          h(Text, { inverse: true }, ' '),
        )
      : h(Text, { color: 'gray' }, 'press Enter to type a message'),
    h(
      Text,
      { color: 'gray', wrap: 'truncate' },
      mode === 'typing'
        ? 'Enter send · Esc cancel · Tab switch user'
        : [
            'Enter type',
            'Tab/1-9,0 user',
            `F ${me.process === 'running' ? 'offline' : 'online'}`,
            `L ${me.faults.packetLoss > 0 || me.faults.frameLoss > 0 ? 'loss off' : '20% loss'}`,
            `E ${view.eagerAll ? 'default fanout' : 'all eager'}`,
            'R reset',
            `M ${showMetrics ? 'hide' : 'show'} metrics`,
            'Q quit',
          ].join(' · '),
    ),
  );
}

/** The room as `user` received it: the last messages that fit in `rows` lines (2 each). */
function renderMessages(
  messages: readonly ChatMessage[],
  user: string,
  rows: number,
): ReactElement[] {
  const fit = messages.slice(-Math.max(1, Math.floor(rows / 2)));
  if (fit.length === 0) {
    return [h(Text, { key: 'empty', color: 'gray' }, 'No message yet: press Enter, type, Enter.')];
  }
  return fit.flatMap((m) => {
    const l = messageLine(m, user);
    return [
      h(
        Text,
        { key: `${m.id}-t`, wrap: 'truncate', dimColor: !l.received },
        h(Text, { color: 'gray' }, `${l.head}: `),
        l.text,
      ),
      h(
        Text,
        {
          key: `${m.id}-d`,
          wrap: 'truncate',
          color: l.received ? (l.catchUp ? 'yellow' : 'gray') : 'red',
        },
        `   ${l.detail}`,
      ),
    ];
  });
}

/** Rows padded into aligned columns. */
function table(rows: readonly (readonly string[])[]): string[] {
  const widths = METRICS_HEADERS.map((head, c) =>
    Math.max(head.length, ...rows.map((r) => (r[c] ?? '').length)),
  );
  return rows.map((r) =>
    r.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '),
  );
}
