// Live updates: one EventSource on GET /api/v1/stream for the whole page while a user is logged in.
// The server sends one "change" event per journal entry the user may see, naming the object and
// never its content; views re-read what they show through the ordinary, scoped API. A "reset"
// (the server could not replay what was missed) is passed on as a change of everything.
import { useEffect, useRef } from 'preact/hooks';

export type Change = {
  seq: number;
  object_type: string; // "incident", "report", "task", ...
  object_id: string;
  action: string;
  incident: string | null; // the incident whose timeline the change is on
};

type Listener = (change: Change | null) => void; // null: reload everything

const listeners = new Set<Listener>();
let source: EventSource | null = null;

export function startLive(): void {
  if (source || typeof EventSource === 'undefined') return;
  source = new EventSource('/api/v1/stream', { withCredentials: true });
  source.addEventListener('change', (e) => {
    let change: Change;
    try {
      change = JSON.parse((e as MessageEvent).data) as Change;
    } catch {
      return;
    }
    listeners.forEach((l) => l(change));
  });
  source.addEventListener('reset', () => listeners.forEach((l) => l(null)));
  // The browser reconnects by itself (with Last-Event-ID) after a dropped connection.
}

export function stopLive(): void {
  source?.close();
  source = null;
}

// Calls `onChange` for changes that `relevant` accepts (and for a reset), at most once per
// `delayMs`: a bulk action of 50 reports reloads the list once, not 50 times.
export function useLiveChanges(relevant: (c: Change) => boolean, onChange: () => void, delayMs = 300): void {
  const latest = useRef({ relevant, onChange });
  latest.current = { relevant, onChange };
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const listener: Listener = (change) => {
      if (change && !latest.current.relevant(change)) return;
      if (timer) return;
      timer = setTimeout(() => {
        timer = null;
        latest.current.onChange();
      }, delayMs);
    };
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (timer) clearTimeout(timer);
    };
  }, [delayMs]);
}
