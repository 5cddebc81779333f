import { describe, expect, it } from "vitest";
import { stripShebang } from "./ratelimit-redis-adapter.js";

describe("stripShebang", () => {
  it("drops only a leading #! line", () => {
    expect(stripShebang("#!lua flags=allow-key-locking\n  local key = KEYS[1]\n")).toBe(
      "  local key = KEYS[1]\n",
    );
    expect(stripShebang("local a = 1 -- #!not a shebang\n")).toBe("local a = 1 -- #!not a shebang\n");
  });
});
