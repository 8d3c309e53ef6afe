// The user's display preferences, kept in this browser (localStorage) so they survive reloads.
// Storage stays canonical (mg/dL, Cel); only the display converts.

export type GlucoseUnit = 'mg/dL' | 'mmol/L'
export type TempUnit = 'Cel' | '[degF]'

export interface Prefs {
  glucose: GlucoseUnit
  temperature: TempUnit
  sound: boolean
}

const KEY = 'vitalwire.prefs'
const DEFAULTS: Prefs = { glucose: 'mg/dL', temperature: 'Cel', sound: false }

export function loadPrefs(storage: Pick<Storage, 'getItem'> = localStorage): Prefs {
  try {
    const raw = JSON.parse(storage.getItem(KEY) ?? '{}')
    return {
      glucose: raw.glucose === 'mmol/L' ? 'mmol/L' : 'mg/dL',
      temperature: raw.temperature === '[degF]' ? '[degF]' : 'Cel',
      // Sound needs a user gesture to start an AudioContext, so it is re-armed by a click after a reload.
      sound: raw.sound === true,
    }
  } catch {
    return { ...DEFAULTS }
  }
}

export function savePrefs(p: Prefs, storage: Pick<Storage, 'setItem'> = localStorage): void {
  storage.setItem(KEY, JSON.stringify(p))
}
