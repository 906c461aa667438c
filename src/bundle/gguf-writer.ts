import { truncate, writeFile } from "node:fs/promises";

type GgufValue = string | number | boolean | string[];

/**
 * Writes a GGUF v3 file with metadata and no tensors, byte by byte per the GGUF spec: enough for
 * everything pack and verify-bundle read (chat template, special tokens, mcp_forge.* keys). Tests
 * and the bundle benchmark use it; `dataBytes` of zeros stand in for a model's weights.
 */
export async function writeGguf(path: string, metadata: Record<string, GgufValue>, dataBytes = 0): Promise<void> {
  const parts: Buffer[] = [];
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    return b;
  };
  const u64 = (n: number) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(n));
    return b;
  };
  const str = (s: string) => {
    const bytes = Buffer.from(s, "utf8");
    return Buffer.concat([u64(bytes.length), bytes]);
  };
  const entries = Object.entries(metadata);
  parts.push(Buffer.from("GGUF"), u32(3), u64(0), u64(entries.length));
  for (const [key, value] of entries) {
    parts.push(str(key));
    if (typeof value === "string") parts.push(u32(8), str(value));
    else if (typeof value === "boolean") parts.push(u32(7), Buffer.from([value ? 1 : 0]));
    else if (typeof value === "number") parts.push(u32(4), u32(value));
    else parts.push(u32(9), u32(8), u64(value.length), ...value.map(str));
  }
  const body = Buffer.concat(parts);
  const padding = (32 - (body.length % 32)) % 32;
  await writeFile(path, Buffer.concat([body, Buffer.alloc(padding)]));
  if (dataBytes > 0) await truncate(path, body.length + padding + dataBytes);
}
