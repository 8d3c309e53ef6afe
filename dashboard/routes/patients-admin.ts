import type { FastifyInstance } from 'fastify'
import { VitalwireError } from '../../shared/errors.ts'
import { birthDateProblem } from '../../shared/provisioning.ts'
import type { Patient } from '../../storage/ports.ts'
import { auditReq, requireRole, requireViewer } from '../auth.ts'
import type { DashboardDeps } from '../deps.ts'
import { errors, json, newPatientSchema, patchPatientSchema, patientSchema } from '../schemas.ts'
import { patientView } from '../views.ts'

// Admin: enroll patients and change monitoring and clinical flags. Every change is audited.

export function patientAdminRoutes(app: FastifyInstance, deps: DashboardDeps) {
  const admin = [requireViewer(deps), requireRole(deps, 'admin')]
  const tags = ['admin']
  const patient = json(patientSchema, 'output')

  app.post(
    '/api/patients',
    {
      preHandler: admin,
      schema: {
        tags,
        summary: 'enroll a patient',
        body: json(newPatientSchema),
        response: { 201: patient, ...errors(400, 401, 403, 409) },
      },
    },
    async (req, reply) => {
      const body = req.body as { id: string; name: string; birthDate?: string; flags?: Patient['flags'] }
      const problem = body.birthDate ? birthDateProblem(body.birthDate) : undefined
      if (problem) throw new VitalwireError('VW_ERR_VALIDATION', problem)
      const p = await deps.registry.addPatient(body)
      auditReq(deps, req, { action: 'patient.add', outcome: 'ok', patientId: p.id })
      reply.code(201)
      return patientView(p)
    },
  )

  app.patch(
    '/api/patients/:id',
    {
      preHandler: admin,
      schema: {
        tags,
        summary: 'pause/resume monitoring or change clinical flags',
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } } },
        body: json(patchPatientSchema),
        response: { 200: patient, ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => {
      const { id } = req.params as { id: string }
      const body = req.body as { monitoring?: boolean; flags?: Patient['flags'] }
      // The registry answers 404 for an unknown id; only admins get here, who may see every patient.
      if (body.monitoring !== undefined) await deps.registry.setMonitoring(id, body.monitoring)
      if (body.flags !== undefined) await deps.registry.setPatientFlags(id, body.flags)
      const p = await deps.registry.getPatient(id)
      if (!p) throw new VitalwireError('VW_ERR_NOT_FOUND', `patient ${id} not found`)
      auditReq(deps, req, { action: 'patient.update', outcome: 'ok', patientId: id, detail: body })
      return patientView(p)
    },
  )
}
