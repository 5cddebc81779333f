import type { ServiceInfo } from "./platform.js";

/**
 * The runner's status table, fixed-width so it reads in any terminal.
 *
 * @example
 * process.stdout.write(formatTable(platform.services));
 */
export function formatTable(services: readonly ServiceInfo[]): string {
  const rows = [
    ["FUNCTION", "URL", "PID", "STATE", "K_SINK"],
    ...services.map((s) => [s.name, s.url, String(s.pid ?? "-"), s.state, s.kSink ?? "-"]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return `${rows
    .map((r) =>
      r
        .map((cell, c) => cell.padEnd(widths[c]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n")}\n`;
}
