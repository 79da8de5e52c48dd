/**
 * The player: one self-contained output that plays a whole sequence in the browser, without the
 * kernel — play/pause, step back and forward, a slider, a `t = …` readout, and keys while it has
 * focus (← → step, space plays, Home / End). Everything is inside the output (nothing loaded from
 * the network): diagram frames laid out in the kernel (stored as differences from the first
 * frame), the plots rendered once as PNGs, and a few lines of vanilla JavaScript that swap the
 * diagram frame and move the plots' cursor.
 *
 * Without scripts (an untrusted notebook, exported HTML without JS) the output still shows the
 * diagram and plots at the starting step — ordinary `<img>` elements — with its step, the
 * controls disabled and a note saying why.
 */
import { randomUUID } from "node:crypto";
import { DISPLAY, type Displayable, type MimeBundle } from "../display/protocol";
import { Stepper } from "../engine/stepper";
import { Trace } from "../engine/trace";
import { errors } from "../errors";
import { heatmap } from "../plot/heatmap";
import { states } from "../plot/states";
import type { CellSource } from "../diagram";
import { DiagramFrames, type ViewDiagramOptions } from "./diagram-frames";
import { PlotFrames } from "./frames";
import { besidePlots, diagramFigure } from "./layout";
import type { HeatmapOptions } from "../plot/heatmap";
import type { LinesOptions } from "../plot/lines";

/** Options of {@link player}. */
export interface PlayerOptions {
  /** Step shown first, and without scripts (default: the stepper's step, else 0). */
  t?: number;
  /** Most diagram frames stored (default 40); longer sequences are sampled evenly. */
  maxFrames?: number;
  /** Diagram options, e.g. `{ detail: "gates" }`. */
  diagram?: ViewDiagramOptions;
  /** Heatmap options (`false`: no heatmap). */
  heatmap?: HeatmapOptions | false;
  /** State plot options (`false`: no state plot). */
  states?: LinesOptions | false;
  /** Batch element (default 0). */
  b?: number;
  /** Width of each plot (default 360). */
  width?: number;
}

/** Diagram frames as the first frame's pieces plus, per frame, the pieces that differ. */
export interface DeltaFrames {
  base: string[];
  deltas: [number, string][][];
}

/** Splits SVGs after every `>` and stores each as its differences from the first (a whole frame when the structure differs). */
export function deltaFrames(svgs: readonly string[]): DeltaFrames {
  const split = (s: string) => s.split(/(?<=>)/);
  const base = split(svgs[0]);
  const deltas = svgs.map((svg) => {
    const parts = split(svg);
    if (parts.length !== base.length) return [[-1, svg] as [number, string]];
    const d: [number, string][] = [];
    for (let i = 0; i < parts.length; i++) if (parts[i] !== base[i]) d.push([i, parts[i]]);
    return d;
  });
  return { base, deltas };
}

/** Evenly spaced steps, at most `max`, always including the first and last. */
export function sampleSteps(T: number, max: number): number[] {
  if (T <= max) return Array.from({ length: T }, (_, t) => t);
  return [...new Set(Array.from({ length: max }, (_, k) => Math.round((k * (T - 1)) / (max - 1))))];
}

// The browser side, kept tiny and dependency-free. It rebuilds frame k from DATA and sets the
// <img> sources; the plot frame is PlotFrames.parts' head + one rule per cursor + tail. Controls:
// buttons, the slider, and keys while the player has focus (← → step, space plays, Home / End).
// A click on the
// diagram zooms it to 1.5× (the figure scrolls) and back.
const SCRIPT = `(function () {
  var root = document.getElementById(ID);
  if (!root) return;
  var data = JSON.parse(root.querySelector(".ap-data").textContent);
  var slider = root.querySelector(".ap-slider"), caption = root.querySelector(".ap-caption"), readout = root.querySelector(".ap-t");
  var back = root.querySelector(".ap-back"), play = root.querySelector(".ap-play"), forward = root.querySelector(".ap-forward");
  var diagram = root.querySelector(".ap-diagram"), plots = root.querySelectorAll(".ap-plot"), note = root.querySelector(".ap-note");
  var last = data.steps.length - 1, k = Number(slider.value), timer = null;
  function b64(s) { var bytes = new TextEncoder().encode(s), bin = ""; for (var i = 0; i < bytes.length; i += 8192) bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192)); return "data:image/svg+xml;base64," + btoa(bin); }
  function r2(x) { return Math.round(x * 100) / 100; }
  function frame(k) {
    var d = data.frames.deltas[k];
    if (d.length && d[0][0] === -1) return d[0][1];
    var parts = data.frames.base.slice();
    for (var i = 0; i < d.length; i++) parts[d[i][0]] = d[i][1];
    return parts.join("");
  }
  function show(next) {
    k = Math.max(0, Math.min(last, next));
    var t = data.steps[k];
    diagram.src = b64(frame(k));
    for (var p = 0; p < plots.length; p++) {
      var P = data.plots[p], rules = "";
      for (var c = 0; c < P.cursors.length; c++) { var g = P.cursors[c], x = r2(g.x0 + g.perStep * t); rules += '<line x1="' + x + '" x2="' + x + '" y1="' + r2(g.y1) + '" y2="' + r2(g.y2) + '"/>'; }
      plots[p].src = b64(P.head + rules + P.tail);
    }
    slider.value = String(k);
    caption.textContent = data.caption.replace("{t}", t);
    readout.textContent = "t = " + t;
    root.setAttribute("data-t", String(t));
  }
  function pause() {
    if (timer !== null) clearInterval(timer);
    timer = null;
    play.textContent = "▶ play";
    play.setAttribute("aria-pressed", "false");
  }
  function toggle() {
    if (timer !== null) return pause();
    if (k === last) show(0);
    timer = setInterval(function () { if (k >= last) pause(); else show(k + 1); }, data.interval);
    play.textContent = "❚❚ pause";
    play.setAttribute("aria-pressed", "true");
  }
  function move(next) { pause(); show(next); }
  var keys = { ArrowLeft: function () { move(k - 1); }, ArrowRight: function () { move(k + 1); }, Home: function () { move(0); }, End: function () { move(last); }, " ": toggle };
  // Listening on window, capturing, runs before JupyterLab's shortcuts (document, capturing: they
  // bind ← and → in command mode), so the keys the player handles stop here; others pass on.
  function onKey(e) {
    if (!root.isConnected) return window.removeEventListener("keydown", onKey, true);
    var act = keys[e.key];
    if (!act || !root.contains(e.target) || e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
    e.stopPropagation();
    // A focused button or slider acts on its own keys (space clicks the button; arrows move the slider).
    if ((e.key === " " && e.target.tagName === "BUTTON") || (e.target === slider && e.key !== " ")) return;
    e.preventDefault();
    act();
  }
  window.addEventListener("keydown", onKey, true);
  slider.addEventListener("input", function () { pause(); show(Number(slider.value)); });
  back.addEventListener("click", function () { move(k - 1); });
  forward.addEventListener("click", function () { move(k + 1); });
  play.addEventListener("click", toggle);
  diagram.addEventListener("click", function () {
    var zoomed = diagram.getAttribute("data-zoomed") === "true", w = Number(diagram.getAttribute("data-width"));
    diagram.style.width = zoomed ? "100%" : Math.round(w * 1.5) + "px";
    diagram.style.maxWidth = zoomed ? w + "px" : "none";
    diagram.style.cursor = zoomed ? "zoom-in" : "zoom-out";
    diagram.setAttribute("data-zoomed", String(!zoomed));
  });
  diagram.style.cursor = "zoom-in";
  [slider, back, play, forward].forEach(function (el) { el.disabled = false; });
  if (note) note.remove();
  root.tabIndex = 0;
})();`;

/**
 * A self-contained player of a whole sequence (no kernel needed to scrub).
 *
 * @example
 * const s = cell(LSTM, { inputSize: 1, hiddenSize: 8 }).stepper(xs);
 * await player(s);                  // or player(trace)
 * await player(trace, { t: 10, maxFrames: 40, diagram: { detail: "gates" } });
 */
export class Player implements Displayable {
  constructor(
    /** The HTML of the output. */
    readonly html: string,
    /** The text view. */
    readonly text: string,
    /** Bytes of the HTML. */
    readonly bytes: number,
  ) {}

  [DISPLAY](): MimeBundle {
    return { "text/html": this.html, "text/plain": this.text };
  }
}

/** Builds a {@link Player} from a stepper (its whole sequence) or a computed trace. */
export async function player(source: Stepper | Trace, options: PlayerOptions = {}): Promise<Player> {
  const where = "player()";
  let full: Trace;
  let cellOrDef: CellSource;
  let start: number;
  if (source instanceof Stepper) {
    const tr = source.trace;
    full = source.cell.run(source.inputs, { initial: tr.initial, reverse: tr.direction === "backward", interventions: tr.interventions });
    cellOrDef = source.cell;
    start = options.t ?? Math.max(0, source.t);
  } else if (source instanceof Trace) {
    full = source;
    if (full.length === 0) throw errors.emptyTrace(where);
    cellOrDef = full.def;
    start = options.t ?? 0;
  } else {
    throw errors.badOption(`source of ${where}`, source, "a Stepper (cell.stepper(xs)) or a Trace (cell.run(xs))");
  }
  const T = full.length;
  if (!Number.isInteger(start) || start < 0 || start >= T) throw errors.outOfRange(`Step t of ${where}`, start, 0, T - 1);
  const maxFrames = options.maxFrames ?? 40;
  if (!Number.isInteger(maxFrames) || maxFrames < 2) throw errors.badOption(`maxFrames of ${where}`, maxFrames, "an integer of at least 2");
  const steps = sampleSteps(T, maxFrames);
  const k0 = steps.reduce((best, t, k) => (Math.abs(t - start) < Math.abs(steps[best] - start) ? k : best), 0);
  const t0 = steps[k0];
  const width = options.width ?? 360;
  // One chart after the other: a chart that fails must not leave another's failure unhandled.
  const charts = [];
  if (options.heatmap !== false) charts.push(await heatmap(full, { width, b: options.b, rowHeight: 5, ...options.heatmap, cursor: 0 }));
  if (options.states !== false) charts.push(await states(full, { width, height: 90, b: options.b, ...options.states, cursor: 0 }));
  const plots = await Promise.all(charts.map((c) => PlotFrames.render(c)));
  // A Cell gives the diagram concrete sizes; a definition with the trace gives them too.
  const diagrams = new DiagramFrames(cellOrDef, full, { b: options.b, ...options.diagram }, { limit: steps.length + 1 });
  const svgs: string[] = [];
  for (const t of steps) svgs.push(await diagrams.svgAt(t));
  const id = `archlab-player-${randomUUID()}`;
  const def = full.def;
  const caption = `${def.name}: step t = {t} of 0…${T - 1}${steps.length < T ? ` (${steps.length} frames)` : ""}`;
  const data = {
    steps,
    caption,
    frames: deltaFrames(svgs),
    plots: plots.map((p) => ({ ...p.parts, cursors: p.template.cursors })),
    // Milliseconds per frame when playing: the whole sequence in about 8 s, 80–400 ms a frame.
    interval: Math.round(Math.min(400, Math.max(80, 8000 / steps.length))),
  };
  const json = JSON.stringify(data).replace(/</g, "\\u003c");
  const text = caption.replace("{t}", String(t0));
  const figure = diagramFigure(svgs[k0], text, { imgClass: "ap-diagram", captionClass: "ap-caption" });
  const button = (cls: string, label: string, title: string) =>
    `<button type="button" class="${cls}" title="${title}" disabled style="font:12px sans-serif;min-width:64px">${label}</button>`;
  const html =
    `<div class="archlab-player" id="${id}" tabindex="0" data-t="${t0}" style="outline-offset:2px">` +
    `<div style="display:flex;flex-wrap:wrap;align-items:center;gap:8px;margin-bottom:6px;font:12px sans-serif">` +
    button("ap-back", "◀ step", "Step back (←)") +
    button("ap-play", "▶ play", "Play / pause (space)") +
    button("ap-forward", "step ▶", "Step forward (→)") +
    `<input class="ap-slider" type="range" min="0" max="${steps.length - 1}" step="1" value="${k0}" disabled aria-label="step" style="flex:1 1 200px;max-width:480px">` +
    `<span class="ap-t" style="font:bold 13px sans-serif;min-width:64px">t = ${t0}</span>` +
    `<span class="ap-note" style="color:#666">A still frame at t = ${t0}: scripts are off here (trust the notebook to play).</span></div>` +
    besidePlots(figure, plots.map((p) => p.imgAt(t0, ' class="ap-plot"'))) +
    `<script type="application/json" class="ap-data">${json}</script>` +
    `<script>${SCRIPT.replace("ID", JSON.stringify(id))}</script></div>`;
  return new Player(html, `Player of ${def.name} over ${T} steps: ${text}`, Buffer.byteLength(html));
}
