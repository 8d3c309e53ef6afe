import fs from 'node:fs'

// Names and helpers the CLI needs before it decides to load the heavy components (fast --help).

export const COMPONENTS = ['broker', 'ingest', 'alerts', 'dashboard'] as const
export type Component = (typeof COMPONENTS)[number]

/** The data dir is owner-only (0700), created on first use. */
export function prepareDataDir(dataDir: string) {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  fs.chmodSync(dataDir, 0o700)
}
