import fs from 'node:fs'
import { VitalwireError } from '../shared/errors.ts'
import { parseRuleSet, type RuleSet } from './rules.ts'

// Read a rule set from a JSON file (VITALWIRE_ALERT_RULES, `vitalwire rules test`), with errors that
// name the file and every problem in it.

export function loadRuleFile(file: string): RuleSet {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (e) {
    throw new VitalwireError(
      'VW_ERR_RULES_INVALID',
      `cannot read rule file ${file}: ${(e as Error).message}`,
      {
        cause: e,
      },
    )
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    throw new VitalwireError('VW_ERR_RULES_INVALID', `${file} is not valid JSON: ${(e as Error).message}`, {
      cause: e,
    })
  }
  return parseRuleSet(json, file)
}
