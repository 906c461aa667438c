import { loadLlamaCpp } from "../../core/llama-cpp.js";

export interface LlamaReport {
  gpu: string | false;
  buildType: "localBuild" | "prebuilt";
  release: string;
  gpuDevices: string[];
  vramBytes: number;
}

/**
 * Loads node-llama-cpp's native binary the way the runtime stages do (best GPU backend first,
 * CPU last), but never builds from source, so doctor stays fast. Imported lazily: loading
 * node-llama-cpp costs every other command a few hundred milliseconds.
 */
export async function probeLlama(): Promise<LlamaReport> {
  const { getLlama, LlamaLogLevel } = await loadLlamaCpp();
  const llama = await getLlama({
    gpu: "auto",
    build: "never",
    progressLogs: false,
    logLevel: LlamaLogLevel.error,
    logger: () => undefined,
  });
  try {
    const vram = await llama.getVramState();
    return {
      gpu: llama.gpu,
      buildType: llama.buildType,
      release: llama.llamaCppRelease.release,
      gpuDevices: await llama.getGpuDeviceNames(),
      vramBytes: vram.total,
    };
  } finally {
    await llama.dispose();
  }
}
