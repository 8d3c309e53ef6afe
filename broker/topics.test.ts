import { describe, expect, it } from 'vitest'
import { isInternal, mayPublish, maySubscribe } from './topics.ts'

describe('topic policy', () => {
  it.each([
    ['rpm/v1/devices/d1/readings', true],
    ['rpm/v1/devices/d1/errors', false],
    ['rpm/v1/devices/d2/readings', false],
    ['rpm/v1/devices/d1/readings/x', false],
    ['rpm/v1/devices/+/readings', false],
    ['$SYS/x', false],
  ])('publish %s -> %s', (topic, ok) => expect(mayPublish('d1', topic)).toBe(ok))

  it.each([
    ['rpm/v1/devices/d1/errors', true],
    ['rpm/v1/devices/d1/#', true],
    ['rpm/v1/devices/d1/+', true],
    ['rpm/v1/devices/d1', false],
    ['rpm/v1/devices/d10/errors', false],
    ['rpm/v1/devices/+/errors', false],
    ['rpm/v1/devices/#', false],
    ['#', false],
    ['+/v1/devices/d1/errors', false],
    ['$SYS/#', false],
    ['$share/g/rpm/v1/devices/d1/errors', false],
  ])('subscribe %s -> %s', (filter, ok) => expect(maySubscribe('d1', filter)).toBe(ok))

  it('treats readings topics as internal (never forwarded to subscribers)', () => {
    expect(isInternal('rpm/v1/devices/d1/readings')).toBe(true)
    expect(isInternal('rpm/v1/devices/d1/errors')).toBe(false)
  })
})
