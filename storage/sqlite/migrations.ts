// Schema migrations, applied in order; never edit a released one, append a new one.
export const MIGRATIONS: string[] = [
  `
  CREATE TABLE patients (
    id TEXT PRIMARY KEY,
    name_enc TEXT NOT NULL,
    birth_date_enc TEXT,
    monitoring INTEGER NOT NULL DEFAULT 1,
    flags TEXT NOT NULL DEFAULT '{}',
    created_ms INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    patient_id TEXT NOT NULL REFERENCES patients(id),
    type TEXT NOT NULL DEFAULT 'generic',
    auth TEXT NOT NULL CHECK (auth IN ('secret', 'cert')),
    secret_hash TEXT,
    cert_fingerprint TEXT,
    cert_not_after_ms INTEGER,
    revoked_ms INTEGER,
    created_ms INTEGER NOT NULL,
    last_seen_ms INTEGER,
    connected INTEGER NOT NULL DEFAULT 0,
    battery INTEGER,
    firmware TEXT
  ) STRICT;
  CREATE INDEX devices_patient ON devices(patient_id);
  CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role TEXT NOT NULL CHECK (role IN ('admin', 'coordinator', 'clinician')),
    password_hash TEXT NOT NULL,
    must_change_password INTEGER NOT NULL DEFAULT 1,
    disabled_ms INTEGER,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until_ms INTEGER,
    created_ms INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE care_team (
    user_id INTEGER NOT NULL REFERENCES users(id),
    patient_id TEXT NOT NULL REFERENCES patients(id),
    PRIMARY KEY (user_id, patient_id)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX care_team_patient ON care_team(patient_id);
  CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    token_hash TEXT NOT NULL,
    label TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    revoked_ms INTEGER
  ) STRICT;
  CREATE TABLE sessions (
    sid TEXT PRIMARY KEY,
    data TEXT NOT NULL,
    expires_ms INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE readings (
    key TEXT PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    patient_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    type TEXT NOT NULL,
    effective_ms INTEGER NOT NULL,
    received_ms INTEGER NOT NULL,
    vals TEXT NOT NULL,
    resource TEXT NOT NULL
  ) STRICT;
  CREATE INDEX readings_patient_type_time ON readings(patient_id, type, effective_ms, id);
  CREATE INDEX readings_patient_time ON readings(patient_id, effective_ms, id);
  CREATE INDEX readings_time ON readings(effective_ms, id);
  -- Latest observation per patient and type, kept in the commit transaction for the worklist.
  CREATE TABLE latest_readings (
    patient_id TEXT NOT NULL,
    type TEXT NOT NULL,
    key TEXT NOT NULL,
    effective_ms INTEGER NOT NULL,
    PRIMARY KEY (patient_id, type)
  ) STRICT, WITHOUT ROWID;
  CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    enqueued_ms INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE dead_letters (
    id INTEGER PRIMARY KEY,
    device_id TEXT,
    reading_id TEXT,
    code TEXT NOT NULL,
    reason TEXT NOT NULL,
    payload BLOB,
    received_ms INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE alerts (
    id TEXT PRIMARY KEY,
    patient_id TEXT NOT NULL,
    rule TEXT NOT NULL,
    severity TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved')),
    opened_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    data TEXT NOT NULL
  ) STRICT;
  -- One live alert per patient and rule: repeated breaches update it (dedupe).
  CREATE UNIQUE INDEX alerts_one_live ON alerts(patient_id, rule) WHERE status != 'resolved';
  CREATE INDEX alerts_status ON alerts(status, updated_ms);
  CREATE TABLE alert_snoozes (
    alert_id TEXT NOT NULL REFERENCES alerts(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    until_ms INTEGER NOT NULL,
    PRIMARY KEY (alert_id, user_id)
  ) STRICT;
  CREATE TABLE audit (
    seq INTEGER PRIMARY KEY,
    at_ms INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    outcome TEXT NOT NULL,
    patient_id TEXT,
    target TEXT,
    ip TEXT,
    detail TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
  ) STRICT;
  CREATE INDEX audit_patient ON audit(patient_id, seq);
  -- Registry changes, so a running server sees what the CLI did without a restart.
  CREATE TABLE registry_events (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    at_ms INTEGER NOT NULL
  ) STRICT;
  `,
  // Readings keep the facts of their Observation, not its JSON: the resource is rendered on read
  // (shared/fhir.ts observationResource). ~150 bytes a row instead of ~1 KB, which is most of the cost
  // of the durable commit that precedes each PUBACK. Existing rows are converted from their resource.
  `
  CREATE TABLE readings_compact (
    key TEXT PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    patient_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    type TEXT NOT NULL,
    effective_ms INTEGER NOT NULL,
    received_ms INTEGER NOT NULL,
    vals TEXT NOT NULL,
    effective TEXT NOT NULL,
    flags TEXT,
    out_of_range TEXT CHECK (out_of_range IN ('L', 'H'))
  ) STRICT;
  INSERT INTO readings_compact
    SELECT key, id, patient_id, device_id, type, effective_ms, received_ms, vals,
      json_extract(resource, '$.effectiveDateTime'),
      (SELECT group_concat(json_extract(t.value, '$.code'), ',') FROM json_each(resource, '$.meta.tag') t),
      CASE WHEN json_extract(resource, '$.dataAbsentReason') IS NOT NULL
        THEN json_extract(resource, '$.interpretation[0].coding[0].code') END
    FROM readings;
  DROP TABLE readings;
  ALTER TABLE readings_compact RENAME TO readings;
  -- No (patient_id, effective_ms) index any more: it cost a third of each insert, and a patient's
  -- readings of every type come from one seek per type on the index below (readings.ts search).
  CREATE INDEX readings_patient_type_time ON readings(patient_id, type, effective_ms, id);
  CREATE INDEX readings_time ON readings(effective_ms, id);
  `,
  // The patients an entry disclosed when it names several (a worklist or FHIR search read lists
  // them in detail.patients), so "who saw patient X" finds those reads too. A derived index, not part
  // of the hash chain: the chain still covers detail itself. Entries written before are indexed here.
  `
  CREATE TABLE audit_patients (
    patient_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (patient_id, seq)
  ) STRICT, WITHOUT ROWID;
  INSERT OR IGNORE INTO audit_patients (patient_id, seq)
    SELECT j.value, a.seq FROM audit a, json_each(a.detail, '$.patients') j
    WHERE a.detail IS NOT NULL AND json_valid(a.detail) AND json_type(a.detail, '$.patients') = 'array'
      AND j.type = 'text';
  `,
  // No index on the Observation id any more: it was one of five B-trees each reading's insert goes
  // through (about 8 % of the ingest rate). An id starts with its reading's effective time
  // (shared/fhir.ts observationId), so a read by id is a seek on readings_time (effective_ms, id), and
  // ids stay unique because the rest of an id is a hash of the idempotency key, which is unique. Rows
  // written before ids started with their time are listed in reading_legacy_ids to be found by id.
  // Rowids are kept: the worklist follows new readings by rowid.
  `
  CREATE TABLE readings_v4 (
    key TEXT PRIMARY KEY,
    id TEXT NOT NULL,
    patient_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    type TEXT NOT NULL,
    effective_ms INTEGER NOT NULL,
    received_ms INTEGER NOT NULL,
    vals TEXT NOT NULL,
    effective TEXT NOT NULL,
    flags TEXT,
    out_of_range TEXT CHECK (out_of_range IN ('L', 'H'))
  ) STRICT;
  INSERT INTO readings_v4 (rowid, key, id, patient_id, device_id, type, effective_ms, received_ms, vals,
      effective, flags, out_of_range)
    SELECT rowid, key, id, patient_id, device_id, type, effective_ms, received_ms, vals, effective, flags,
      out_of_range
    FROM readings;
  CREATE TABLE reading_legacy_ids (
    id TEXT PRIMARY KEY,
    key TEXT NOT NULL
  ) STRICT, WITHOUT ROWID;
  -- The 9 base-36 digits of the effective time that an id written since starts with. (Ingest never
  -- accepts a time before 1970; an id clamps it to 0, so such a row is listed here too.)
  INSERT INTO reading_legacy_ids (id, key)
    SELECT id, key FROM readings
    WHERE effective_ms < 0 OR substr(id, 1, 9) != (
      substr('0123456789abcdefghijklmnopqrstuvwxyz', (effective_ms / 2821109907456) % 36 + 1, 1) ||
      substr('0123456789abcdefghijklmnopqrstuvwxyz', (effective_ms / 78364164096) % 36 + 1, 1) ||
      substr('0123456789abcdefghijklmnopqrstuvwxyz', (effective_ms / 2176782336) % 36 + 1, 1) ||
      substr('0123456789abcdefghijklmnopqrstuvwxyz', (effective_ms / 60466176) % 36 + 1, 1) ||
      substr('0123456789abcdefghijklmnopqrstuvwxyz', (effective_ms / 1679616) % 36 + 1, 1) ||
      substr('0123456789abcdefghijklmnopqrstuvwxyz', (effective_ms / 46656) % 36 + 1, 1) ||
      substr('0123456789abcdefghijklmnopqrstuvwxyz', (effective_ms / 1296) % 36 + 1, 1) ||
      substr('0123456789abcdefghijklmnopqrstuvwxyz', (effective_ms / 36) % 36 + 1, 1) ||
      substr('0123456789abcdefghijklmnopqrstuvwxyz', (effective_ms / 1) % 36 + 1, 1));
  DROP TABLE readings;
  ALTER TABLE readings_v4 RENAME TO readings;
  CREATE INDEX readings_patient_type_time ON readings(patient_id, type, effective_ms, id);
  CREATE INDEX readings_time ON readings(effective_ms, id);
  `,
  // How far alerts have evaluated the committed readings (by rowid), so that readings committed and
  // acknowledged but not yet evaluated when the process stopped are evaluated at the next start
  // (alerts/progress.ts). An existing database starts from its newest reading: its past was evaluated.
  `
  CREATE TABLE alert_progress (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    evaluated_seq INTEGER NOT NULL
  ) STRICT;
  INSERT INTO alert_progress (id, evaluated_seq) SELECT 1, COALESCE(MAX(rowid), 0) FROM readings;
  `,
  // API tokens expire (tokens.ts). Tokens issued before have no expiry (NULL) and are listed as such.
  `
  ALTER TABLE api_tokens ADD COLUMN expires_ms INTEGER;
  `,
  // When monitoring last resumed after a pause (NULL: never paused), so that the no-data and
  // device-offline checks count silence from then, not from before the pause (alerts/scheduled.ts).
  `
  ALTER TABLE patients ADD COLUMN monitoring_since_ms INTEGER;
  `,
  // A patient's latest resolved alert of a rule (alerts/lifecycle.ts: a late reading from a resolved
  // episode), without scanning every resolved alert.
  `
  CREATE INDEX alerts_patient_rule ON alerts(patient_id, rule, updated_ms);
  `,
]
