import { adminRows, adminStatus, errorText, input, onceSecret } from './admin-common.ts'
import { api } from './api.ts'
import { field, openDialog } from './dialog.ts'
import { button, clear, h } from './dom.ts'
import { localTime } from './format.ts'
import type { Ctx, View } from './routes.ts'

// Admin: enroll a device (its secret is shown once, with a copy button), list and revoke devices.

interface DeviceRow {
  id: string
  patientId: string
  type: string
  connected: boolean
  lastSeen?: string
  battery?: number
  revoked: boolean
}

export function mountAdminDevices(ctx: Ctx): View {
  const status = adminStatus()
  const secretSlot = h('div', {})
  const tbody = h('tbody', {})
  const cache = new Map<string, { el: HTMLElement; sig: string }>()
  const id = input({ id: 'nd-id', required: '', pattern: '[A-Za-z0-9][A-Za-z0-9.\\-]{0,63}' })
  const patient = h('select', { id: 'nd-patient', required: '' }) as HTMLSelectElement
  const type = input({ id: 'nd-type', value: 'generic', required: '' })
  const form = h(
    'form',
    { class: 'card admin-form', 'aria-labelledby': 'nd-title' },
    h('h3', { id: 'nd-title' }, 'Enroll device'),
    field('Device ID', id),
    field('Patient', patient),
    field('Payload mapping', type, '“generic” accepts canonical readings of every vital type.'),
    h('button', { type: 'submit', class: 'primary' }, 'Enroll device'),
  ) as HTMLFormElement
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault()
    try {
      const r = await api<{ id: string; secret?: string }>('POST', '/api/devices', {
        id: id.value.trim(),
        patientId: patient.value,
        type: type.value.trim(),
        auth: 'secret',
      })
      status.textContent = `Device ${r.id} enrolled.`
      form.reset()
      secretSlot.replaceChildren(
        onceSecret(`Secret for device ${r.id}`, r.secret ?? '', () => {
          status.textContent = 'Secret hidden.'
          id.focus()
        }),
      )
      await load()
    } catch (e) {
      status.textContent = `Could not enroll: ${errorText(e)}`
    }
  })
  clear(ctx.main).append(
    h('h2', {}, 'Devices'),
    status,
    secretSlot,
    form,
    h(
      'table',
      { class: 'admin-table', id: 'admin-devices' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...['Device', 'Patient', 'Type', 'State', 'Last seen', 'Battery', 'Action'].map((t) =>
            h('th', { scope: 'col' }, t),
          ),
        ),
      ),
      tbody,
    ),
  )

  async function revoke(d: DeviceRow) {
    const ok = await openDialog({
      title: `Revoke device ${d.id}?`,
      body: [h('p', {}, 'It is disconnected at once and can never connect again with its current secret.')],
      submitLabel: 'Revoke device',
      role: 'alertdialog',
      onSubmit: async () => {
        await api('DELETE', `/api/devices/${encodeURIComponent(d.id)}`)
        return undefined
      },
    })
    if (ok) {
      status.textContent = `Device ${d.id} revoked.`
      await load()
    }
  }

  async function load() {
    let devices: DeviceRow[]
    try {
      devices = (await api<{ devices: DeviceRow[] }>('GET', '/api/devices')).devices
    } catch (e) {
      status.textContent = errorText(e)
      return
    }
    const patientName = (d: DeviceRow) => ctx.store.patients.get(d.patientId)?.name ?? d.patientId
    adminRows(
      tbody,
      status,
      devices,
      (d) => d.id,
      (d) => JSON.stringify([d, patientName(d)]),
      (d) =>
        h(
          'tr',
          { 'data-device': d.id },
          h('th', { scope: 'row' }, d.id),
          h('td', {}, patientName(d)),
          h('td', {}, d.type),
          h('td', {}, d.revoked ? '✕ revoked' : d.connected ? '● connected' : '○ offline'),
          h('td', {}, d.lastSeen ? localTime(d.lastSeen) : 'never'),
          h('td', {}, d.battery === undefined ? '—' : `${d.battery} %`),
          h(
            'td',
            {},
            d.revoked
              ? ''
              : button('Revoke', () => void revoke(d), {
                  'aria-label': `Revoke device ${d.id}`,
                  'data-focus-key': `revoke:${d.id}`,
                }),
          ),
        ),
      cache,
    )
  }
  let patientSig = ''
  let pending: ReturnType<typeof setTimeout> | undefined
  // Connection and battery changes show up live, at most one reload a second.
  const off = ctx.store.subscribe((m) => {
    if (m.type !== 'device-status' || pending) return
    pending = setTimeout(() => {
      pending = undefined
      void load()
    }, 1000)
  })
  void load()
  return {
    render() {
      const ps = [...ctx.store.patients.values()].sort((a, b) => a.name.localeCompare(b.name))
      const sig = ps.map((p) => p.id).join(',')
      if (sig === patientSig) return
      patientSig = sig
      const keep = patient.value
      patient.replaceChildren(...ps.map((p) => h('option', { value: p.id }, `${p.name} (${p.id})`)))
      if (keep) patient.value = keep
    },
    close() {
      off()
      clearTimeout(pending)
    },
  }
}
