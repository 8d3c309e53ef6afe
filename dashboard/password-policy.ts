import { ZxcvbnFactory } from '@zxcvbn-ts/core'
import * as common from '@zxcvbn-ts/language-common'
import * as en from '@zxcvbn-ts/language-en'

// What a user may choose as a password (NIST SP 800-63B 3.1.1.2): long enough, and not one that is
// easy to guess. Guessability is zxcvbn's estimate (dictionaries of common and leaked passwords,
// names, words, keyboard patterns, dates, repeats, l33t), with the user's own email and the product's
// name counted as known words; no composition rules. Score 3 of 4 is "safely unguessable" against
// online attacks and moderate against an offline one on a slow hash.

export const MIN_PASSWORD_LENGTH = 12
const MIN_SCORE = 3

let checker: ZxcvbnFactory | undefined
/** Built on first use: loading the dictionaries takes ~150 ms, which a server start need not pay. */
function zxcvbn(): ZxcvbnFactory {
  checker ??= new ZxcvbnFactory({
    dictionary: { ...common.dictionary, ...en.dictionary },
    graphs: common.adjacencyGraphs,
    translations: en.translations,
  })
  return checker
}

/** Why `next` is not acceptable as this user's password, or undefined when it is. */
export function passwordProblem(next: string, user: { email: string }, current?: string): string | undefined {
  if (next.length < MIN_PASSWORD_LENGTH || next.length > 1024)
    return `a password has ${MIN_PASSWORD_LENGTH} to 1024 characters`
  if (next === current) return 'the new password must differ from the current one'
  const known = ['vitalwire', user.email, ...user.email.split(/[@._+-]/).filter((w) => w.length > 2)]
  const r = zxcvbn().check(next, known)
  if (r.score >= MIN_SCORE) return undefined
  const why = [r.feedback.warning, ...r.feedback.suggestions].filter(Boolean).join(' ')
  return `this password is too easy to guess${why ? `: ${why}` : ''} A few unrelated words make a strong one.`
}
