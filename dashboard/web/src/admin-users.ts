import { adminRows, adminStatus, errorText, input, onceSecret, patientCheckboxes } from './admin-common.ts'
import { api } from './api.ts'
import { field, openDialog } from './dialog.ts'
import { button, clear, h, keepFocus } from './dom.ts'
import type { Ctx, View } from './routes.ts'

// Admin: users and care teams. Coordinators and clinicians see only their care team's patients.

interface UserRow {
  id: number | string
  email: string
  role: string
  patients: string[]
  disabled?: boolean
}

export function mountAdminUsers(ctx: Ctx): View {
  const status = adminStatus()
  const secretSlot = h('div', {})
  const tbody = h('tbody', {})
  const cache = new Map<string, { el: HTMLElement; sig: string }>()
  const allPatients = () => [...ctx.store.patients.values()].sort((a, b) => a.name.localeCompare(b.name))
  const email = input({ id: 'nu-email', type: 'email', required: '' })
  const role = h(
    'select',
    { id: 'nu-role' },
    ...['coordinator', 'clinician', 'admin'].map((r) => h('option', { value: r }, r)),
  ) as HTMLSelectElement
  let team = patientCheckboxes(allPatients(), [], 'nu-p')
  const teamSlot = h('div', {}, team.el)
  const form = h(
    'form',
    { class: 'card admin-form', 'aria-labelledby': 'nu-title' },
    h('h3', { id: 'nu-title' }, 'Add user'),
    field('Email', email),
    field('Role', role, 'Admins see every patient; others only their care team.'),
    teamSlot,
    h('button', { type: 'submit', class: 'primary' }, 'Add user'),
  ) as HTMLFormElement
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault()
    try {
      const r = await api<{ email: string; password: string }>('POST', '/api/users', {
        email: email.value.trim(),
        role: role.value,
        patients: team.value(),
      })
      status.textContent = `User ${r.email} added.`
      form.reset()
      secretSlot.replaceChildren(
        onceSecret(`One-time password for ${r.email}`, r.password, () => email.focus()),
      )
      await load()
    } catch (e) {
      status.textContent = `Could not add the user: ${errorText(e)}`
    }
  })
  clear(ctx.main).append(
    h('h2', {}, 'Users and care teams'),
    status,
    secretSlot,
    form,
    h(
      'table',
      { class: 'admin-table', id: 'admin-users' },
      h(
        'thead',
        {},
        h('tr', {}, ...['User', 'Role', 'Care team', 'Action'].map((t) => h('th', { scope: 'col' }, t))),
      ),
      tbody,
    ),
  )

  async function editTeam(u: UserRow) {
    const boxes = patientCheckboxes(allPatients(), u.patients, `team-${u.id}`)
    const ok = await openDialog({
      title: `Care team of ${u.email}`,
      body: [boxes.el],
      submitLabel: 'Save care team',
      onSubmit: async () => {
        await api('PUT', `/api/users/${encodeURIComponent(String(u.id))}/patients`, {
          patients: boxes.value(),
        })
        return undefined
      },
    })
    if (ok) {
      status.textContent = `Care team of ${u.email} saved.`
      await load()
    }
  }

  const userPath = (u: UserRow, what: string) => `/api/users/${encodeURIComponent(String(u.id))}/${what}`

  /** Someone who left, or an account that may be compromised: their sessions, tokens and screens stop. */
  async function setDisabled(u: UserRow, disabled: boolean) {
    const ok = await openDialog({
      title: disabled ? `Disable ${u.email}?` : `Enable ${u.email} again?`,
      body: [
        h(
          'p',
          {},
          disabled
            ? 'They can no longer sign in; their open sessions, API tokens and live screens stop at once.'
            : 'They can sign in again with their password.',
        ),
      ],
      submitLabel: disabled ? 'Disable user' : 'Enable user',
      role: 'alertdialog',
      onSubmit: async () => {
        await api('POST', userPath(u, disabled ? 'disable' : 'enable'))
        return undefined
      },
    })
    if (ok) {
      status.textContent = `${u.email} ${disabled ? 'disabled' : 'enabled'}.`
      await load()
    }
  }

  async function resetPassword(u: UserRow) {
    let reset: { email: string; password: string } | undefined
    const ok = await openDialog({
      title: `Reset the password of ${u.email}?`,
      body: [h('p', {}, 'They get a new one-time password, shown once here; their sessions end.')],
      submitLabel: 'Reset password',
      role: 'alertdialog',
      onSubmit: async () => {
        reset = await api<{ email: string; password: string }>('POST', userPath(u, 'password'))
        return undefined
      },
    })
    if (ok && reset) {
      status.textContent = `Password of ${reset.email} reset.`
      secretSlot.replaceChildren(
        onceSecret(`New one-time password for ${reset.email}`, reset.password, () => email.focus()),
      )
    }
  }

  async function load() {
    let users: UserRow[]
    try {
      users = (await api<{ users: UserRow[] }>('GET', '/api/users')).users
    } catch (e) {
      status.textContent = errorText(e)
      return
    }
    const name = (id: string) => ctx.store.patients.get(id)?.name ?? id
    const teamText = (u: UserRow) =>
      u.role === 'admin' ? 'all patients' : u.patients.map(name).join(', ') || 'none'
    adminRows(
      tbody,
      status,
      users,
      (u) => String(u.id),
      (u) => `${u.email}|${u.role}|${u.patients.join(',')}|${teamText(u)}|${u.disabled}`,
      (u) =>
        h(
          'tr',
          { 'data-user': u.email, class: u.disabled ? 'disabled' : '' },
          h('th', { scope: 'row' }, u.email),
          h('td', {}, u.disabled ? `${u.role} (DISABLED)` : u.role),
          h('td', {}, teamText(u)),
          h(
            'td',
            {},
            ...(u.role === 'admin'
              ? []
              : [
                  button('Edit care team', () => void editTeam(u), {
                    'aria-label': `Edit care team of ${u.email}`,
                    'data-focus-key': `team:${u.id}`,
                  }),
                ]),
            // Not on one's own account (the server refuses both too): either would end this session.
            ...(u.email === ctx.session.email
              ? []
              : [
                  button('Reset password', () => void resetPassword(u), {
                    'aria-label': `Reset the password of ${u.email}`,
                    'data-focus-key': `reset:${u.id}`,
                  }),
                  button(u.disabled ? 'Enable' : 'Disable', () => void setDisabled(u, !u.disabled), {
                    'aria-label': `${u.disabled ? 'Enable' : 'Disable'} ${u.email}`,
                    'data-focus-key': `disable:${u.id}`,
                  }),
                ]),
          ),
        ),
      cache,
    )
  }
  let patientSig = ''
  void load()
  return {
    render() {
      const sig = allPatients()
        .map((p) => p.id)
        .join(',')
      if (sig === patientSig) return
      patientSig = sig
      team = patientCheckboxes(allPatients(), team.value(), 'nu-p')
      // A patient added meanwhile (live): the checkbox the user was on keeps the focus.
      keepFocus(teamSlot, () => teamSlot.replaceChildren(team.el))
    },
    close() {},
  }
}
