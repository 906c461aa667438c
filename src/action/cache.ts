import * as cache from "@actions/cache";
import * as core from "@actions/core";

import { readState, writeState } from "./context.js";

/** One cache look-up or save, for the log and the job summary. */
export interface CacheEvent {
  what: string;
  key: string;
  result: "hit" | "partial" | "miss" | "saved" | "unavailable" | "exists";
  matchedKey?: string;
}

const LOG = "cache.json";

/**
 * Restores `paths` for `key` (or the newest entry under one of `restoreKeys`, a prefix match).
 * A cache service that is down or absent is a miss with a warning: caching never fails the job.
 */
export async function restore(
  what: string,
  paths: string[],
  key: string,
  restoreKeys: string[] = [],
): Promise<CacheEvent> {
  let event: CacheEvent;
  if (!cache.isFeatureAvailable()) event = { what, key, result: "unavailable" };
  else {
    try {
      const matchedKey = await cache.restoreCache(paths, key, restoreKeys);
      event =
        matchedKey === undefined
          ? { what, key, result: "miss" }
          : { what, key, result: matchedKey === key ? "hit" : "partial", matchedKey };
    } catch (error) {
      core.warning(`cache restore for ${what} failed: ${(error as Error).message}`);
      event = { what, key, result: "unavailable" };
    }
  }
  await record(event);
  return event;
}

export async function save(what: string, paths: string[], key: string): Promise<CacheEvent> {
  let event: CacheEvent;
  if (!cache.isFeatureAvailable()) event = { what, key, result: "unavailable" };
  else {
    try {
      const id = await cache.saveCache(paths, key);
      event = { what, key, result: id === -1 ? "exists" : "saved" };
    } catch (error) {
      core.warning(`cache save for ${what} failed: ${(error as Error).message}`);
      event = { what, key, result: "unavailable" };
    }
  }
  await record(event);
  return event;
}

export async function cacheEvents(): Promise<CacheEvent[]> {
  return (await readState<CacheEvent[]>(LOG)) ?? [];
}

async function record(event: CacheEvent): Promise<void> {
  const label = {
    hit: "hit",
    partial: `partial hit (${event.matchedKey})`,
    miss: "miss",
    saved: "saved",
    exists: "already saved",
    unavailable: "unavailable",
  }[event.result];
  core.info(`cache ${event.what}: ${label} · ${event.key}`);
  await writeState(LOG, [...(await cacheEvents()), event]);
}
