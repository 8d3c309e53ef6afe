import { type ChildProcess, spawn } from 'node:child_process'
import path from 'node:path'
import readline from 'node:readline'

// Run the real `vitalwire` CLI as a child process, as a user or a script would.

export const ROOT = path.resolve(import.meta.dirname, '..', '..')
const CLI = path.join(ROOT, 'cli', 'vitalwire.ts')

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

export function runCli(args: string[], env: Record<string, string>, timeoutMs = 30_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => {
      stdout += d
    })
    child.stderr.on('data', (d) => {
      stderr += d
    })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`vitalwire ${args.join(' ')} timed out; stderr: ${stderr}`))
    }, timeoutMs)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** Start `vitalwire start --json` and resolve with the parsed ready line. */
export function startServerProcess(
  env: Record<string, string>,
  args: string[] = [],
): Promise<{ child: ChildProcess; ready: any; stderr: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'start', '--json', ...args], {
      env: { ...process.env, VITALWIRE_MQTT_PORT: '0', VITALWIRE_HTTP_PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    child.stderr!.on('data', (d) => {
      stderr += d
    })
    const lines = readline.createInterface({ input: child.stdout! })
    const timer = setTimeout(
      () => reject(new Error(`server did not become ready; stderr: ${stderr}`)),
      30_000,
    )
    lines.once('line', (line) => {
      clearTimeout(timer)
      resolve({ child, ready: JSON.parse(line), stderr: () => stderr })
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`server exited with ${code}; stderr: ${stderr}`))
    })
  })
}

export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode })
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
}
