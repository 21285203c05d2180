// The tree of one room, drawn with cytoscape (served from node_modules, ES module build).
// Nodes sit on a circle in a fixed order, so a redraw only changes colours and links: every
// node of the cluster is shown (the ones outside the room faded), and the links are the room's
// tree as its members report it, eager solid green, lazy dashed orange.
import cytoscape from '/vendor/cytoscape/cytoscape.esm.min.mjs';

const STATE_COLOURS = {
  alive: '#34d399',
  suspect: '#facc15',
  dead: '#ef4444',
  left: '#94a3b8',
  unknown: '#64748b',
};

const FLASH_MS = 900;

export class TreeGraph {
  /** @param {HTMLElement} container */
  constructor(container) {
    this.cy = cytoscape({
      container,
      autoungrabify: false,
      userZoomingEnabled: false,
      userPanningEnabled: false,
      boxSelectionEnabled: false,
      style: [
        {
          selector: 'node',
          style: {
            width: 34,
            height: 34,
            'background-color': 'data(colour)',
            'background-opacity': 0.22,
            'border-width': 3,
            'border-color': 'data(colour)',
            label: 'data(label)',
            color: '#e2e8f0',
            'font-size': 12,
            'font-family': 'ui-monospace, DejaVu Sans Mono, monospace',
            'text-valign': 'bottom',
            'text-halign': 'center',
            'text-margin-y': 4,
            'text-wrap': 'wrap',
            'line-height': 1.25,
            'text-background-color': '#131920',
            'text-background-opacity': 0.75,
            'text-background-padding': 2,
          },
        },
        {
          selector: 'node.out',
          style: { opacity: 0.35, 'border-style': 'dashed', 'border-width': 2 },
        },
        { selector: 'node.down', style: { 'background-opacity': 0.08 } },
        {
          selector: 'node.speaker',
          style: {
            'underlay-color': '#60a5fa',
            'underlay-opacity': 0.3,
            'underlay-padding': 6,
            'underlay-shape': 'ellipse',
          },
        },
        {
          selector: 'edge',
          style: {
            'curve-style': 'straight',
            'transition-property': 'width, line-color, target-arrow-color',
            'transition-duration': '250ms',
          },
        },
        {
          selector: 'edge.eager',
          style: { width: 4, 'line-color': '#34d399', 'line-style': 'solid' },
        },
        {
          // Only one end holds the link eager, for a moment (a GRAFT or PRUNE in flight): the
          // arrow shows the direction payloads are pushed.
          selector: 'edge.eager.oneway',
          style: {
            width: 3,
            'target-arrow-shape': 'triangle',
            'target-arrow-color': '#34d399',
            'arrow-scale': 1.1,
          },
        },
        {
          selector: 'edge.lazy',
          style: {
            width: 2,
            'line-color': '#f59e0b',
            'line-style': 'dashed',
            'line-dash-pattern': [7, 5],
            opacity: 0.85,
          },
        },
        { selector: 'edge.to-down', style: { opacity: 0.4 } },
        { selector: 'edge.flash-graft', style: { width: 9, 'line-color': '#38bdf8' } },
        { selector: 'edge.flash-prune', style: { width: 9, 'line-color': '#e879f9' } },
        { selector: 'edge.flash-promotion', style: { width: 9, 'line-color': '#86efac' } },
        { selector: 'edge.flash-demotion', style: { width: 9, 'line-color': '#fb923c' } },
      ],
    });
    this.names = [];
    new ResizeObserver(() => this.layout()).observe(container);
  }

  /** Positions on a circle, node-1 at the top, clockwise. */
  layout() {
    const { w, h } = { w: this.cy.width(), h: this.cy.height() };
    const r = Math.max(40, Math.min(w, h) / 2 - 48);
    const n = this.names.length;
    this.names.forEach((name, i) => {
      const a = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(1, n);
      this.cy.$id(name).position({ x: w / 2 + r * Math.cos(a), y: h / 2 + r * Math.sin(a) });
    });
    this.cy.fit(undefined, 8);
  }

  /**
   * Draws `room` of `view`.
   * @param {any} view the cluster view
   * @param {any} room the room's view
   * @param {string} speaker the node the chat speaks from
   */
  render(view, room, speaker) {
    const cy = this.cy;
    const names = view.nodes.map((n) => n.name);
    const members = new Set(room ? room.members : []);
    const down = new Set(
      view.nodes.filter((n) => n.process !== 'running' || n.swim !== 'alive').map((n) => n.name),
    );
    cy.batch(() => {
      if (names.join() !== this.names.join()) {
        cy.elements().remove();
        cy.add(names.map((name) => ({ group: 'nodes', data: { id: name } })));
        this.names = names;
      }
      for (const n of view.nodes) {
        const el = cy.$id(n.name);
        const state = n.process === 'running' ? n.swim : n.process === 'killed' ? 'dead' : n.swim;
        el.data('colour', STATE_COLOURS[state] ?? STATE_COLOURS.unknown);
        const side = view.partition ? view.partition.findIndex((g) => g.includes(n.name)) : -1;
        const sideText = side >= 0 ? ` · ${String.fromCharCode(65 + side)}` : '';
        el.data('label', `${n.name}\n${labelOf(n)}${sideText}`);
        el.toggleClass('out', !members.has(n.name));
        el.toggleClass('down', down.has(n.name));
        el.toggleClass('speaker', n.name === speaker);
      }
      const wanted = new Map();
      for (const e of room ? room.edges : []) {
        const oneway = e.kind === 'eager' && e.eagerAt !== 'both';
        // The arrow points from the end that pushes to the one that does not (yet).
        const [source, target] = e.eagerAt === 'b' ? [e.b, e.a] : [e.a, e.b];
        wanted.set(edgeId(e.a, e.b), { source, target, kind: e.kind, oneway });
      }
      cy.edges().forEach((edge) => {
        const w = wanted.get(edge.id());
        if (!w || w.source !== edge.data('source')) edge.remove();
      });
      for (const [id, w] of wanted) {
        let edge = cy.$id(id);
        if (edge.empty()) {
          edge = cy.add({ group: 'edges', data: { id, source: w.source, target: w.target } });
        }
        edge.toggleClass('eager', w.kind === 'eager');
        edge.toggleClass('lazy', w.kind === 'lazy');
        edge.toggleClass('oneway', w.oneway);
        edge.toggleClass('to-down', down.has(w.source) || down.has(w.target));
      }
    });
    if (names.length > 0) this.layout();
  }

  /** Flashes the link between two nodes: a GRAFT, PRUNE, promotion or demotion on it. */
  flash(a, b, type) {
    const edge = this.cy.$id(edgeId(a, b));
    if (edge.nonempty()) edge.flashClass(`flash-${type}`, FLASH_MS);
  }
}

function edgeId(x, y) {
  return x < y ? `${x}~${y}` : `${y}~${x}`;
}

function labelOf(n) {
  if (n.process === 'killed') return 'killed';
  if (n.process !== 'running') return n.process;
  return n.swim;
}
