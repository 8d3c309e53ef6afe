// The InfluxDB adapter's public API. `@influxdata/*` is imported only inside this folder.
export { createInfluxHttp, type InfluxOptions, InfluxWriteError, parseRetryAfter } from './http.ts'
export { createInfluxReadingStore, type InfluxReadingStoreDeps, type PointLocation } from './readings.ts'
export { timestampNs, toLine } from './schema.ts'
