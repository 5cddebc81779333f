import { formatBytes } from "./error-messages.js";

export interface ProgressSink {
  write(text: string): unknown;
}

export interface ProgressOptions {
  label: string;
  total: number;
  /** Bytes already done before this run (a resumed upload starts part-way). */
  initial?: number;
  out: ProgressSink;
  /** TTY: one redrawn bar line. Otherwise: a plain line every `intervalMs` (logs, CI, tests). */
  tty: boolean;
  intervalMs?: number;
  now?: () => number;
}

export interface Progress {
  add(bytes: number): void;
  readonly done: number;
  /** Draws the final state and ends the line. */
  finish(): void;
  /** Ends the bar's line without claiming completion (Ctrl-C, failure). */
  stop(): void;
}

/**
 * A byte progress display with rate and ETA on stderr. The rate is measured over the last ~5 s, so a
 * resumed upload's already-done bytes do not inflate it.
 *
 * @example
 * const bar = createProgress({ label: "upload", total: size, out: process.stderr, tty: process.stderr.isTTY });
 * bar.add(chunk.length); bar.finish();
 */
export function createProgress(options: ProgressOptions): Progress {
  const now = options.now ?? (() => performance.now());
  const interval = options.intervalMs ?? (options.tty ? 100 : 2000);
  const start = now();
  let done = options.initial ?? 0;
  let lastDraw = Number.NEGATIVE_INFINITY;
  let ended = false;
  const samples: { t: number; bytes: number }[] = [{ t: start, bytes: done }];

  const rate = (): number => {
    const t = now();
    while (samples.length > 2 && t - (samples[1]?.t ?? t) > 5000) samples.shift();
    const first = samples[0]!;
    const dt = (t - first.t) / 1000;
    return dt > 0 ? (done - first.bytes) / dt : 0;
  };

  const draw = (final: boolean) => {
    const r = rate();
    const line = formatProgressLine({
      label: options.label,
      done,
      total: options.total,
      rate: r,
      tty: options.tty,
      final,
    });
    options.out.write(options.tty ? `\r${line}\u001b[K${final ? "\n" : ""}` : `${line}\n`);
  };

  return {
    get done() {
      return done;
    },
    add(bytes) {
      if (ended) return;
      done += bytes;
      const t = now();
      const last = samples[samples.length - 1]!;
      if (t - last.t >= 250) samples.push({ t, bytes: done });
      if (t - lastDraw >= interval) {
        lastDraw = t;
        draw(false);
      }
    },
    finish() {
      if (ended) return;
      ended = true;
      draw(true);
    },
    stop() {
      if (ended) return;
      ended = true;
      if (options.tty) options.out.write("\n");
    },
  };
}

/**
 * One progress line. TTY: `upload [██████░░░░]  60% 1.2 GiB/2.0 GiB 95.1 MiB/s ETA 0:09`; plain:
 * `upload 60% 1.2 GiB/2.0 GiB 95.1 MiB/s eta 9s`.
 */
export function formatProgressLine(p: {
  label: string;
  done: number;
  total: number;
  rate: number;
  tty: boolean;
  final?: boolean;
}): string {
  const fraction = p.total > 0 ? Math.min(1, Math.max(0, p.done / p.total)) : 1;
  const pct = Math.floor(fraction * 100);
  const eta = p.rate > 0 ? (p.total - p.done) / p.rate : Number.POSITIVE_INFINITY;
  const sizes = `${formatBytes(p.done)}/${formatBytes(p.total)}`;
  const speed = `${formatBytes(Math.round(p.rate))}/s`;
  if (p.tty) {
    const width = 24;
    const filled = Math.round(fraction * width);
    const bar = `${"█".repeat(filled)}${"░".repeat(width - filled)}`;
    return `${p.label} [${bar}] ${String(pct).padStart(3)}% ${sizes} ${speed} ETA ${p.final ? "0:00" : formatEta(eta)}`;
  }
  return `${p.label} ${pct}% ${sizes} ${speed} eta ${p.final ? "0s" : Number.isFinite(eta) ? `${Math.ceil(eta)}s` : "?"}`;
}

function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds)) return "--:--";
  const s = Math.ceil(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}
