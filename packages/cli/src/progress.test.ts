import { describe, expect, it } from "vitest";
import { createProgress, formatProgressLine } from "./progress.js";

const MiB = 1024 * 1024;

describe("progress", () => {
  it("formats bytes, rate and ETA for a TTY and for plain output", () => {
    const p = { label: "upload", done: 512 * MiB, total: 2048 * MiB, rate: 64 * MiB };
    expect(formatProgressLine({ ...p, tty: false })).toBe("upload 25% 512.0 MiB/2.0 GiB 64.0 MiB/s eta 24s");
    expect(formatProgressLine({ ...p, tty: true })).toBe(
      "upload [██████░░░░░░░░░░░░░░░░░░]  25% 512.0 MiB/2.0 GiB 64.0 MiB/s ETA 0:24",
    );
    expect(formatProgressLine({ ...p, rate: 0, tty: false })).toMatch(/eta \?$/);
    expect(formatProgressLine({ ...p, rate: 0, tty: true })).toMatch(/ETA --:--$/);
  });

  it("plain mode prints a line per interval; the rate ignores bytes done before a resume", () => {
    let t = 0;
    let out = "";
    const bar = createProgress({
      label: "upload",
      total: 100 * MiB,
      initial: 50 * MiB,
      out: { write: (s: string) => (out += s) },
      tty: false,
      intervalMs: 1000,
      now: () => t,
    });
    for (let i = 0; i < 10; i++) {
      t += 500;
      bar.add(5 * MiB);
    }
    bar.finish();
    const lines = out.trim().split("\n");
    // First add draws, then every 1000 ms, then the final line.
    expect(lines.length).toBe(6);
    expect(lines[0]).toMatch(/^upload 55% /);
    // 5 MiB per 500 ms = 10 MiB/s, not (60 MiB / 0.5 s).
    expect(lines[2]).toMatch(/ 10\.0 MiB\/s /);
    expect(lines.at(-1)).toBe("upload 100% 100.0 MiB/100.0 MiB 10.0 MiB/s eta 0s");
    expect(bar.done).toBe(100 * MiB);
  });

  it("a TTY bar redraws one line and ends it", () => {
    let out = "";
    const bar = createProgress({
      label: "sha256",
      total: 10,
      out: { write: (s: string) => (out += s) },
      tty: true,
      now: () => 0,
    });
    bar.add(5);
    bar.stop();
    expect(out.startsWith("\r")).toBe(true);
    expect(out.endsWith("\n")).toBe(true);
  });
});
