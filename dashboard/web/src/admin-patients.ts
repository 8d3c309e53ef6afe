import { adminRows, adminStatus, errorText, input } from './admin-common.ts'
import { api } from './api.ts'
import { field, openDialog } from './dialog.ts'
import { button, clear, h } from './dom.ts'
import type { Ctx, View } from './routes.ts'

// Admin: add patients, pause and resume monitoring (a paused patient raises no no-data alerts).

export function mountAdminPatients(ctx: Ctx): View {
  const status = adminStatus()
  const tbody = h('tbody', {})
  const cache = new Map<string, { el: HTMLElement; sig: string }>()
  const id = input({ id: 'np-id', required: '', pattern: '[A-Za-z0-9][A-Za-z0-9.\\-]{0,63}' })
  const name = input({ id: 'np-name', required: '' })
  const birth = input({ id: 'np-birth', type: 'date' })
  const hyper = input({ id: 'np-hyper', type: 'checkbox' })
  const form = h(
    'form',
    { class: 'card admin-form', 'aria-labelledby': 'np-title' },
    h('h3', { id: 'np-title' }, 'Add patient'),
    field('Patient ID', id),
    field('Name', name),
    field('Birth date (optional)', birth),
    h(
      'label',
      { for: 'np-hyper', class: 'check' },
      hyper,
      ' Hypercapnic (SpO₂ target 88–92 %, NEWS2 scale 2)',
    ),
    h('button', { type: 'submit', class: 'primary' }, 'Add patient'),
  ) as HTMLFormElement
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault()
    try {
      await api('POST', '/api/patients', {
        id: id.value.trim(),
        name: name.value.trim(),
        ...(birth.value ? { birthDate: birth.value } : {}),
        ...(hyper.checked ? { flags: { hypercapnic: true } } : {}),
      })
      status.textContent = `Patient ${id.value} added.`
      form.reset()
      await ctx.refresh()
    } catch (e) {
      status.textContent = `Could not add the patient: ${errorText(e)}`
    }
  })
  clear(ctx.main).append(
    h('h2', {}, 'Patients'),
    status,
    form,
    h(
      'table',
      { class: 'admin-table', id: 'admin-patients' },
      h(
        'thead',
        {},
        h('tr', {}, ...['Patient', 'ID', 'Monitoring', 'Action'].map((t) => h('th', { scope: 'col' }, t))),
      ),
      tbody,
    ),
  )

  function render() {
    const rows = [...ctx.store.patients.values()].sort((a, b) => a.name.localeCompare(b.name))
    adminRows(
      tbody,
      status,
      rows,
      (p) => p.id,
      (p) => `${p.name}|${p.monitoring}`,
      (p) => {
        const active = p.monitoring !== false
        return h(
          'tr',
          { 'data-patient': p.id },
          h('th', { scope: 'row' }, p.name),
          h('td', {}, p.id),
          h('td', {}, active ? '● active' : '❚❚ paused'),
          h(
            'td',
            {},
            button(
              active ? `Pause monitoring` : `Resume monitoring`,
              async () => {
                const change = () =>
                  api('PATCH', `/api/patients/${encodeURIComponent(p.id)}`, { monitoring: !active })
                try {
                  if (active) {
                    // Pausing silences a patient's alarms: never on one stray click.
                    const ok = await openDialog({
                      title: `Pause monitoring for ${p.name}?`,
                      body: [
                        h(
                          'p',
                          {},
                          'Their devices are disconnected at once and refused until monitoring resumes, and no alert is raised for them (no readings, no no-data alerts).',
                        ),
                      ],
                      submitLabel: 'Pause monitoring',
                      role: 'alertdialog',
                      onSubmit: async () => {
                        await change()
                        return undefined
                      },
                    })
                    if (!ok) return
                  } else await change()
                  status.textContent = `${p.name}: monitoring ${active ? 'paused' : 'resumed'}.`
                  await ctx.refresh()
                } catch (e) {
                  status.textContent = `Could not change monitoring: ${errorText(e)}`
                }
              },
              {
                'aria-label': `${active ? 'Pause' : 'Resume'} monitoring for ${p.name}`,
                'data-focus-key': `monitoring:${p.id}`,
              },
            ),
          ),
        )
      },
      cache,
    )
  }
  return {
    render(changed) {
      if (changed.patients) render()
    },
    close() {},
  }
}
