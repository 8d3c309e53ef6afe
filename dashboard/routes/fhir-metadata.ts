import { CATALOG } from '../../shared/catalog.ts'

const BASE_OBSERVATION = 'http://hl7.org/fhir/StructureDefinition/Observation'

// The CapabilityStatement served at /fhir/r4/metadata.
export function capabilityStatement(base: string) {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2026-11-27',
    kind: 'instance',
    software: { name: 'Vitalwire' },
    implementation: { description: 'Vitalwire remote patient monitoring FHIR R4 API', url: base },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json'],
    rest: [
      {
        mode: 'server',
        security: { description: 'Session cookie (POST /api/session) or Authorization: Bearer <API token>' },
        resource: [
          {
            type: 'Observation',
            // The base profile for all of them: glucose (laboratory) and steps (activity) are not vital
            // signs. Each vital sign follows its own vital-signs profile (in meta.profile).
            profile: BASE_OBSERVATION,
            supportedProfile: [...new Set([...CATALOG.values()].map((d) => d.profile))].filter(
              (p) => p !== BASE_OBSERVATION,
            ),
            interaction: [{ code: 'read' }, { code: 'search-type' }],
            searchParam: [
              { name: 'patient', type: 'reference' },
              { name: 'subject', type: 'reference' },
              {
                name: 'code',
                type: 'token',
                documentation:
                  'system|code; comma = OR; 41950-7 finds day totals of steps, 55423-8 the other step counts',
              },
              {
                name: 'date',
                type: 'date',
                documentation: 'eq|ge|gt|le|lt; repeatable; dates without time are UTC',
              },
              { name: 'category', type: 'token' },
              { name: '_count', type: 'number' },
              { name: '_sort', type: 'string', documentation: 'date or -date' },
              {
                name: '_total',
                type: 'token',
                documentation: 'none skips the count; estimate and accurate both count',
              },
            ],
          },
          { type: 'Patient', interaction: [{ code: 'read' }] },
          { type: 'Device', interaction: [{ code: 'read' }] },
        ],
      },
    ],
  }
}
