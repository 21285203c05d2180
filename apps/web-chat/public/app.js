// The web chat page: one live stream (server-sent events, /api/stream) and plain DOM.
// Everything shown comes from the nodes' own reports (see apps/web-chat/src/web-chat.controller.ts):
// nothing here simulates the cluster.
import { drawRate } from './chart.js';
import { TreeGraph } from './graph.js';

const MAX_LOG_LINES = 400;
const MAX_MESSAGES = 200;

const state = {
  view: null,
  rooms: [],
  names: [],
  room: localStorage.getItem('room') || 'chat.general',
  speaker: localStorage.getItem('speaker') || 'node-1',
  /** @type {Map<string, any>} chat messages by room and id (ids count per topic) */
  messages: new Map(),
  /** the event log, oldest first */
  events: [],
  /** node name -> partition side ('A' | 'B') */
  sides: new Map(),
  busy: false,
};

const $ = (id) => document.getElementById(id);
const graph = new TreeGraph($('graph'));

/**
 * Keeps a list scrolled to its end while the user has not scrolled up (a list that grows, or a
 * panel whose height settles, does not lose the end).
 */
function stickToEnd(box) {
  let stuck = true;
  let ours = false;
  box.addEventListener('scroll', () => {
    // Only the user's own scrolling decides; ours follows the end.
    if (ours) {
      ours = false;
      return;
    }
    stuck = box.scrollHeight - box.scrollTop - box.clientHeight < 30;
  });
  let queued = false;
  const follow = () => {
    if (!stuck || queued) return;
    queued = true;
    // After layout: what was just added has its height by then.
    requestAnimationFrame(() => {
      queued = false;
      if (!stuck || box.scrollHeight - box.scrollTop - box.clientHeight < 1) return;
      ours = true;
      box.scrollTop = box.scrollHeight;
    });
  };
  new ResizeObserver(follow).observe(box);
  return follow;
}
const followMessages = stickToEnd($('messages'));
const followLog = stickToEnd($('log'));

/** A DOM element; children are nodes or text (never parsed as HTML). */
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

/** A colour per node, stable (by its number). */
function nodeColour(name) {
  const i = Number(name.replace(/\D/g, '')) || 0;
  return `hsl(${(i * 67 + 190) % 360} 70% 68%)`;
}

function clock(ms) {
  const d = new Date(ms);
  return d.toTimeString().slice(0, 8) + '.' + String(d.getMilliseconds()).padStart(3, '0');
}

// ---------------------------------------------------------------- commands

async function command(path, body) {
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body ?? {}),
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) {
    const msg = Array.isArray(json.message) ? json.message.join('; ') : json.message;
    throw new Error(msg || `${res.status} ${res.statusText}`);
  }
  return json;
}

function note(text, error = false) {
  const n = $('composer-note');
  n.textContent = text;
  n.classList.toggle('error', error);
}

async function act(what, fn) {
  try {
    await fn();
  } catch (e) {
    note(`${what}: ${e.message}`, true);
  }
}

// ---------------------------------------------------------------- rendering

const signatures = new Map();

/** Runs `render` only when `signature` changed: rows with open selects are not rebuilt under the user. */
function ifChanged(key, signature, render) {
  const sig = JSON.stringify(signature);
  if (signatures.get(key) === sig) return;
  signatures.set(key, sig);
  render();
}

function renderAll() {
  const v = state.view;
  if (!v) return;
  renderHeader(v);
  const rooms = v.rooms.map((r) => [r.name, r.durable, r.members.length]);
  ifChanged('rooms', [rooms, state.room], () => renderRooms(v));
  const room = v.rooms.find((r) => r.name === state.room) ?? v.rooms[0];
  graph.render(v, room, state.speaker);
  renderTreeStatus(room, v.partition !== null);
  const rows = v.nodes.map((n) => [n.name, n.swim, n.process, n.pid, n.rooms, n.faults, n.address]);
  ifChanged('nodes', [rows, v.partition, state.room, [...state.sides]], () => renderNodes(v));
  ifChanged(
    'matrix',
    v.nodes.map((n) => [n.name, n.process, n.seenBy]),
    () => renderMatrix(v),
  );
  renderComposer(v);
  renderMetrics(v);
  drawRate($('chart'), v.rate);
  const last = v.rate.length > 0 ? v.rate[v.rate.length - 1] : 0;
  $('rate-now').textContent = `now ${last}/s`;
}

function renderHeader(v) {
  const running = v.nodes.filter((n) => n.process === 'running');
  const alive = running.filter((n) => n.swim === 'alive').length;
  $('node-count').textContent = String(v.nodes.length);
  const pa = $('pill-alive');
  pa.textContent = `${alive}/${v.nodes.length} alive`;
  pa.dataset.alive = String(alive);
  pa.className = `pill ${alive === v.nodes.length ? 'good' : alive === 0 ? 'bad' : 'warn'}`;
  const pp = $('pill-partition');
  pp.dataset.partitioned = String(v.partition !== null);
  pp.textContent = v.partition
    ? `partition ${v.partition.map((g) => g.map((n) => n.replace('node-', '')).join(',')).join(' | ')}`
    : 'no partition';
  pp.className = `pill ${v.partition ? 'bad' : ''}`;
  const pf = $('pill-fanout');
  pf.dataset.eagerAll = String(v.eagerAll);
  pf.textContent = v.reconfiguring
    ? 'restarting trees…'
    : v.eagerAll
      ? 'trees open all eager'
      : 'default fanout';
  pf.className = `pill ${v.reconfiguring || v.eagerAll ? 'warn' : ''}`;
  $('btn-heal').disabled = v.partition === null;
  $('btn-partition').disabled = v.partition !== null;
  $('btn-eager').textContent = v.eagerAll ? 'Default fanout' : 'All eager';
  $('btn-eager').disabled = v.reconfiguring;
}

function renderRooms(v) {
  const nav = $('rooms');
  nav.replaceChildren(
    ...v.rooms.map((r) =>
      el(
        'button',
        {
          class: r.name === state.room ? 'active' : '',
          dataset: { room: r.name },
          onclick: () => selectRoom(r.name),
        },
        `# ${r.name}`,
        r.durable
          ? el('span', { class: 'badge', title: 'logged; a restarted node catches up' }, 'durable')
          : null,
        el('span', { class: 'count' }, `${r.members.length} in`),
      ),
    ),
  );
  $('tree-room').textContent = state.room;
  $('chat-room').textContent = state.room;
}

function renderTreeStatus(room, partitioned) {
  const s = $('tree-status');
  if (!room) return;
  const eager = room.edges.filter((e) => e.kind === 'eager').length;
  const lazy = room.edges.length - eager;
  const live = room.liveMembers.length;
  s.dataset.spanning = String(room.spanning);
  s.dataset.live = String(live);
  s.dataset.members = String(room.members.length);
  s.dataset.components = String(room.eagerComponents);
  s.replaceChildren(
    room.spanning
      ? el('b', {}, `✓ eager links span all ${live} live members`)
      : live === 0
        ? el('b', {}, 'nobody alive in this room')
        : el('b', {}, `eager links form ${room.eagerComponents} parts of ${live} live members`),
    ` · ${eager} eager, ${lazy} lazy links`,
    room.spanning
      ? eager > Math.max(0, live - 1)
        ? ' · the next messages PRUNE the extra eager links'
        : ' · a spanning tree'
      : partitioned
        ? ' · the partition cuts the room: each side keeps its own tree until Heal'
        : room.connected
          ? ' · lazy links reach the rest: the next message repairs it (IHAVE → GRAFT)'
          : ' · some members are cut off from the others',
  );
}

function renderNodes(v) {
  const tbody = $('nodes').tBodies[0];
  const half = Math.ceil(v.nodes.length / 2);
  tbody.replaceChildren(
    ...v.nodes.map((n, i) => {
      if (!state.sides.has(n.name)) state.sides.set(n.name, i < half ? 'A' : 'B');
      const side = state.sides.get(n.name);
      const running = n.process === 'running';
      const lossSelect = (which, value) =>
        el(
          'select',
          {
            class: 'small',
            title:
              which === 'packets'
                ? 'SWIM packet loss, both ways'
                : 'Plumtree frames dropped on send',
            onchange: (e) => {
              const f = Number(e.target.value);
              const body =
                which === 'packets'
                  ? { packets: f, frames: n.faults.frameLoss }
                  : { packets: n.faults.packetLoss, frames: f };
              act('loss', () => command(`/api/nodes/${n.name}/loss`, body));
            },
          },
          [0, 0.1, 0.2, 0.5].map((f) =>
            el('option', { value: f, selected: Math.abs(f - value) < 1e-9 }, `${f * 100}%`),
          ),
        );
      return el(
        'tr',
        { dataset: { node: n.name, swim: n.swim, process: n.process } },
        el('td', {}, el('span', { class: `dot ${n.swim}` }), n.name),
        el('td', {}, el('span', { class: `state ${n.swim}` }, n.swim)),
        el(
          'td',
          { class: `proc ${n.process}`, title: n.address ? `${n.address} pid ${n.pid}` : '' },
          n.process === 'running' ? n.address.replace('127.0.0.1', '') : n.process,
        ),
        el(
          'td',
          {},
          n.rooms.map((r) =>
            el(
              'span',
              { class: `chip ${r === state.room ? 'current' : ''}` },
              r.replace('chat.', ''),
            ),
          ),
        ),
        el(
          'td',
          {},
          lossSelect('packets', n.faults.packetLoss),
          ' ',
          lossSelect('frames', n.faults.frameLoss),
        ),
        el(
          'td',
          {},
          el(
            'button',
            {
              class: `small side-${side.toLowerCase()}`,
              title: 'Partition side',
              disabled: v.partition !== null,
              onclick: () => {
                state.sides.set(n.name, side === 'A' ? 'B' : 'A');
                renderAll();
              },
            },
            side,
          ),
        ),
        el(
          'td',
          {},
          running || n.process === 'starting' || n.process === 'restarting'
            ? el(
                'button',
                {
                  class: 'small danger',
                  dataset: { action: 'kill' },
                  disabled: !running,
                  title: 'SIGKILL the node process: no leave message',
                  onclick: () => act('kill', () => command(`/api/nodes/${n.name}/kill`)),
                },
                'Kill',
              )
            : el(
                'button',
                {
                  class: 'small',
                  dataset: { action: 'restart' },
                  title: 'Start it again on its port and store',
                  onclick: () => act('restart', () => command(`/api/nodes/${n.name}/restart`)),
                },
                'Restart',
              ),
        ),
      );
    }),
  );
}

function renderMatrix(v) {
  const names = v.nodes.map((n) => n.name);
  const short = (n) => n.replace('node-', '');
  const head = el(
    'tr',
    {},
    el('th', {}, 'seen by ↓'),
    names.map((n) => el('th', {}, short(n))),
  );
  const rows = v.nodes
    .filter((o) => o.process === 'running')
    .map((o) =>
      el(
        'tr',
        {},
        el('th', {}, o.name),
        names.map((m) => {
          const n = v.nodes.find((x) => x.name === m);
          const s = m === o.name ? 'self' : (n.seenBy[o.name] ?? 'unknown');
          return el(
            'td',
            { title: `${o.name} sees ${m}: ${s}` },
            el('span', { class: `cell-${s}` }),
          );
        }),
      ),
    );
  $('matrix').replaceChildren(head, ...rows);
}

function renderComposer(v) {
  const sel = $('speaker');
  if (sel.options.length !== v.nodes.length) {
    sel.replaceChildren(...v.nodes.map((n) => el('option', { value: n.name }, n.name)));
  }
  if (!v.nodes.some((n) => n.name === state.speaker)) state.speaker = v.nodes[0]?.name ?? '';
  sel.value = state.speaker;
  for (const o of sel.options) {
    const n = v.nodes.find((x) => x.name === o.value);
    o.textContent = n.process === 'running' ? n.name : `${n.name} (${n.process})`;
  }
  const me = v.nodes.find((n) => n.name === state.speaker);
  const inRoom = me && me.rooms.includes(state.room);
  const btn = $('btn-membership');
  btn.textContent = inRoom ? `Leave ${state.room}` : `Join ${state.room}`;
  btn.dataset.in = String(Boolean(inRoom));
  btn.disabled = !me || me.process !== 'running';
  $('btn-send').disabled = !me || me.process !== 'running';
  const room = v.rooms.find((r) => r.name === state.room);
  $('chat-members').textContent = room
    ? `in the room: ${room.members.map((m) => m.replace('node-', '')).join(', ') || 'nobody'}${room.durable ? ' · durable: a restarted member catches up' : ''}`
    : '';
  if (
    me &&
    me.process === 'running' &&
    !inRoom &&
    !$('composer-note').classList.contains('error')
  ) {
    note(
      `${me.name} is not in ${state.room}: its message is handed to a member, which injects it into the tree.`,
    );
  }
}

function renderMetrics(v) {
  const fmt = (x) => (x === null || x === undefined ? '–' : x.toFixed(2));
  $('metrics').tBodies[0].replaceChildren(
    ...v.nodes.map((n) =>
      el(
        'tr',
        { class: n.process === 'running' ? '' : 'down', dataset: { node: n.name } },
        el('td', {}, n.name),
        el('td', {}, n.counters.gossipSent),
        el('td', {}, n.counters.delivered),
        el('td', {}, n.counters.duplicates),
        el('td', {}, n.counters.graftsSent),
        el('td', {}, n.counters.prunesSent),
        el('td', {}, fmt(n.rmr)),
      ),
    ),
    el(
      'tr',
      { class: 'total' },
      el('td', {}, 'all'),
      el('td', {}, v.totals.gossipSent),
      el('td', {}, v.totals.delivered),
      el('td', {}, v.totals.duplicates),
      el('td', {}, v.totals.graftsSent),
      el('td', {}, v.totals.prunesSent),
      el('td', {}, fmt(v.totals.rmr)),
    ),
  );
  $('rmr-total').textContent = `cluster RMR ${fmt(v.totals.rmr)} (0 = no redundant payload)`;
}

// ---------------------------------------------------------------- chat

function renderMessages() {
  const box = $('messages');
  const list = [...state.messages.values()]
    .filter((m) => m.room === state.room)
    .sort((a, b) => a.publishedAtMs - b.publishedAtMs);
  if (list.length === 0) {
    box.replaceChildren(
      el(
        'p',
        { class: 'empty' },
        `No message in ${state.room} yet. Pick a node and say something.`,
      ),
    );
    return;
  }
  const room = state.view?.rooms.find((r) => r.name === state.room);
  box.replaceChildren(...list.map((m) => messageEl(m, room)));
  followMessages();
}

function messageEl(m, room) {
  // Over the tree by hops, then what durable catch-up brought (hops -1) last.
  const order = (a) => (a.hops < 0 ? Number.MAX_SAFE_INTEGER : a.hops);
  const arrivals = [...m.arrivals].sort(
    (a, b) => order(a) - order(b) || a.node.localeCompare(b.node),
  );
  const reach = room ? `reached ${m.arrivals.length} · ${room.members.length} in room now` : '';
  return el(
    'div',
    { class: 'msg', dataset: { id: m.id, origin: m.origin } },
    el(
      'div',
      { class: 'msg-head' },
      el('span', { class: 'who', style: `color:${nodeColour(m.origin)}` }, m.origin),
      el('span', { class: 'reach' }, reach),
      el('time', {}, clock(m.publishedAtMs)),
    ),
    el('div', { class: 'msg-text' }, m.text),
    el(
      'div',
      { class: 'arrivals' },
      arrivals.map((a) =>
        el(
          'span',
          {
            class: `arrival ${a.hops === 0 ? 'origin' : a.hops < 0 ? 'catchup' : ''}`,
            dataset: { node: a.node, hops: a.hops },
            title:
              a.hops < 0
                ? `${a.node} pulled it from ${a.receivedFrom}'s durable log (catch-up)`
                : `${a.node} received it from ${a.receivedFrom}`,
          },
          a.hops === 0
            ? `${a.node} · sent`
            : a.hops < 0
              ? `${a.node} · catch-up from ${a.receivedFrom} · ${a.latencyMs} ms`
              : `${a.node} · ${a.hops} hop${a.hops === 1 ? '' : 's'} · ${a.latencyMs} ms`,
        ),
      ),
    ),
  );
}

function addMessages(list) {
  for (const m of list) state.messages.set(`${m.room} ${m.id}`, m);
  if (state.messages.size > MAX_MESSAGES * 3) {
    const oldest = [...state.messages.values()].sort((a, b) => a.publishedAtMs - b.publishedAtMs);
    for (const m of oldest.slice(0, state.messages.size - MAX_MESSAGES * 3))
      state.messages.delete(m.id);
  }
  renderMessages();
}

// ---------------------------------------------------------------- event log

const KIND_LABEL = {
  promotion: 'PROMOTE',
  demotion: 'DEMOTE',
  graft: 'GRAFT',
  prune: 'PRUNE',
};

function logLine(e) {
  const t = el('time', {}, clock(e.atMs));
  if (e.kind === 'cluster') {
    return el(
      'div',
      { class: `ev ev-${e.level}` },
      t,
      el('span', { class: 'kind' }, e.level.toUpperCase()),
      e.text,
    );
  }
  const at = el('span', { class: 'at' }, e.node);
  switch (e.kind) {
    case 'tree':
      return el(
        'div',
        { class: `ev ev-${e.type}`, dataset: { topic: e.topic } },
        t,
        at,
        el('span', { class: 'kind' }, KIND_LABEL[e.type]),
        e.type === 'promotion' || e.type === 'demotion' ? `${e.peer} ` : `→ ${e.peer}`,
        el('span', { class: 'topic' }, e.topic),
      );
    case 'graft-failed':
      return el(
        'div',
        { class: 'ev ev-graft-failed', dataset: { topic: e.topic } },
        t,
        at,
        el('span', { class: 'kind' }, 'LOST'),
        `gave up ${e.id}`,
        el('span', { class: 'topic' }, e.topic),
      );
    case 'member':
      return el(
        'div',
        { class: `ev ev-${e.type}` },
        t,
        at,
        el('span', { class: 'kind' }, e.type.toUpperCase()),
        e.member,
      );
    case 'peer':
      return el(
        'div',
        { class: 'ev ev-peer' },
        t,
        at,
        el('span', { class: 'kind' }, `LINK ${e.type}`),
        e.peer,
      );
    default:
      return null;
  }
}

/** Appends events to the log (kept client-side, so the room filter can redraw it). */
function addEvents(events, flash = true) {
  for (const e of events) {
    if (flash && e.kind === 'tree' && e.topic === state.room) graph.flash(e.node, e.peer, e.type);
    state.events.push(e);
  }
  if (state.events.length > MAX_LOG_LINES)
    state.events.splice(0, state.events.length - MAX_LOG_LINES);
  renderLog(events);
}

/** Appends the lines of `events`, or redraws the whole log when `events` is undefined. */
function renderLog(events) {
  const log = $('log');
  const roomOnly = $('log-room-only').checked;
  if (events === undefined) log.replaceChildren();
  for (const e of events ?? state.events) {
    if (roomOnly && e.topic !== undefined && e.topic !== state.room) continue;
    const line = logLine(e);
    if (line) log.append(line);
  }
  while (log.childElementCount > MAX_LOG_LINES) log.firstElementChild.remove();
  followLog();
}

// ---------------------------------------------------------------- controls

function selectRoom(room) {
  state.room = room;
  localStorage.setItem('room', room);
  note('');
  renderAll();
  renderMessages();
  if ($('log-room-only').checked) renderLog();
}

$('speaker').addEventListener('change', (e) => {
  state.speaker = e.target.value;
  localStorage.setItem('speaker', state.speaker);
  note('');
  renderAll();
});

$('composer').addEventListener('submit', (e) => {
  e.preventDefault();
  const input = $('text');
  const text = input.value.trim();
  if (!text) return;
  const from = state.speaker;
  act('send', async () => {
    await command(`/api/nodes/${from}/send`, { room: state.room, text });
    input.value = '';
    note('');
  });
});

$('btn-membership').addEventListener('click', () => {
  const me = state.view?.nodes.find((n) => n.name === state.speaker);
  if (!me) return;
  const verb = me.rooms.includes(state.room) ? 'leave' : 'join';
  note('');
  act(verb, () => command(`/api/nodes/${me.name}/${verb}`, { room: state.room }));
});

$('btn-partition').addEventListener('click', () => {
  const names = state.view?.nodes.map((n) => n.name) ?? [];
  const a = names.filter((n) => state.sides.get(n) !== 'B');
  const b = names.filter((n) => state.sides.get(n) === 'B');
  if (a.length === 0 || b.length === 0)
    return note('partition: put nodes on both sides (A and B)', true);
  act('partition', () => command('/api/partition', { groups: [a, b] }));
});

$('btn-heal').addEventListener('click', () => act('heal', () => command('/api/heal')));
$('btn-reset').addEventListener('click', () => act('reset', () => command('/api/metrics/reset')));
$('btn-eager').addEventListener('click', () =>
  act('eager', () => command('/api/eager-all', { on: !state.view?.eagerAll })),
);
$('log-room-only').addEventListener('change', () => renderLog());

// ---------------------------------------------------------------- the live stream

function connect() {
  const es = new EventSource('/api/stream');
  const pill = $('pill-stream');
  es.onopen = () => {
    pill.textContent = 'live';
    pill.dataset.connected = 'true';
    pill.className = 'pill stream good';
  };
  es.onerror = () => {
    pill.textContent = 'reconnecting…';
    pill.dataset.connected = 'false';
    pill.className = 'pill stream bad';
  };
  es.onmessage = (ev) => {
    const msg = JSON.parse(ev.data);
    switch (msg.type) {
      case 'history':
        state.rooms = msg.rooms;
        state.names = msg.names;
        if (!state.rooms.some((r) => r.name === state.room)) state.room = state.rooms[0].name;
        state.messages.clear();
        addMessages(msg.messages);
        state.events = [];
        addEvents(msg.events, false);
        break;
      case 'view':
        state.view = msg.view;
        renderAll();
        break;
      case 'events':
        addEvents(msg.events);
        break;
      case 'messages':
        addMessages(msg.messages);
        break;
    }
  };
}

connect();
