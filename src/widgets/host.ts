/**
 * Where widgets find the kernel's comms. The library cannot import the kernel (kernel/ depends on
 * src/, never the reverse), so the kernel hands its comm registry in at start with
 * {@link connectWidgets}, as it hands in its display publisher with `setPublisher`. Outside a
 * kernel (plain Node, a test) there is no host, and creating a widget is a named error that points
 * at the self-contained `player()`.
 */
import { errors } from "../errors";

/** One comm, as widgets use it (the kernel's `Comm` is one). */
export interface WidgetComm {
  readonly id: string;
  send(data: Record<string, unknown>, options?: { metadata?: Record<string, unknown> }): void;
  close(data?: Record<string, unknown>): void;
  onMsg(handler: (msg: { data: Record<string, unknown> }) => void | Promise<void>): void;
  onClose(handler: (msg: { data: Record<string, unknown> }) => void | Promise<void>): void;
}

/** What widgets need of the kernel's comm registry (kernel/comms.ts's `CommRegistry` is one). */
export interface CommHost {
  open(targetName: string, data: Record<string, unknown>, options: { metadata?: Record<string, unknown> }): WidgetComm;
  registerTarget(targetName: string, handler: (comm: WidgetComm, open: { data: Record<string, unknown> }) => void | Promise<void>): void;
}

/** The comm target of widget models (one comm per widget), as @jupyter-widgets/base names it. */
export const WIDGET_TARGET = "jupyter.widget";
/** The comm target a frontend opens to fetch every widget's state at once (on connect, on reload). */
export const CONTROL_TARGET = "jupyter.widget.control";

/** A widget's model as the control target reports it. */
export interface ModelSnapshot {
  model_name: string;
  model_module: string;
  model_module_version: string;
  state: Record<string, unknown>;
}

let host: CommHost | undefined;

/** The widgets whose comm is open, by model id (widget.ts keeps it). */
export const liveWidgets = new Map<string, { snapshot(): ModelSnapshot }>();

/**
 * Plugs the kernel's comms in (the kernel does this at start) and answers the frontend's
 * `jupyter.widget.control` requests (`request_states` → `update_states`), so a reloaded page shows
 * the widgets again. Returns the previous host.
 */
export function connectWidgets(next: CommHost | undefined): CommHost | undefined {
  const previous = host;
  host = next;
  next?.registerTarget(CONTROL_TARGET, (comm) => {
    comm.onMsg(({ data }) => {
      if (data.method !== "request_states") return;
      const states = Object.fromEntries([...liveWidgets].map(([id, widget]) => [id, widget.snapshot()]));
      comm.send({ method: "update_states", states, buffer_paths: [] });
    });
  });
  return previous;
}

/** The host, or the named error saying that `what` needs a kernel. */
export function requireHost(what: string): CommHost {
  if (!host) throw errors.needsKernel(what);
  return host;
}
