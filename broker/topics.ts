// Topic policy (ARCHITECTURE.md, MQTT): a device publishes only its own readings topic and subscribes
// only under its own prefix. Everything else is refused.

export const TOPIC_PREFIX = 'rpm/v1/devices/'

export function readingsTopic(deviceId: string): string {
  return `${TOPIC_PREFIX}${deviceId}/readings`
}

export function errorsTopic(deviceId: string): string {
  return `${TOPIC_PREFIX}${deviceId}/errors`
}

export function mayPublish(deviceId: string, topic: string): boolean {
  return topic === readingsTopic(deviceId)
}

/** Subscriptions must stay under the device's own prefix; a wildcard may only follow it. */
export function maySubscribe(deviceId: string, filter: string): boolean {
  const own = `${TOPIC_PREFIX}${deviceId}/`
  if (!filter.startsWith(own)) return false
  // '+' or '#' before the device's own level would reach other devices; after it they stay inside.
  return !filter.slice(0, own.length).includes('+') && !filter.slice(0, own.length).includes('#')
}

/** Device ids are also topic levels: no wildcards, separators or control characters. */
export const DEVICE_ID = /^[A-Za-z0-9][A-Za-z0-9.-]{0,63}$/

/** Readings are for ingest only; they are never relayed to other subscribers. */
export function isInternal(topic: string): boolean {
  return topic.startsWith(TOPIC_PREFIX) && topic.endsWith('/readings')
}
