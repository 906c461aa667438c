import { getLlama, LlamaLogLevel } from "node-llama-cpp";

export interface LlamaReport {
  gpu: string | false;
  buildType: "localBuild" | "prebuilt";
  release: string;
  gpuDevices: string[];
  vramBytes: number;
}

/**
 * Loads node-llama-cpp's native binary the way the runtime stages do (best GPU backend first,
 * CPU last), but never builds from source, so doctor stays fast.
 */
export async function probeLlama(): Promise<LlamaReport> {
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
