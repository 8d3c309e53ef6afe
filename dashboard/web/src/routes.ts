import { mountAdminDevices } from './admin-devices.ts'
import { mountAdminPatients } from './admin-patients.ts'
import { mountAdminUsers } from './admin-users.ts'
import { createAlertFeed } from './alerts.ts'
import { clear, h } from './dom.ts'
import type { Session } from './login.ts'
import { mountPatient } from './patient.ts'
import type { Prefs } from './prefs.ts'
import type { Store } from './store.ts'
import { createWorklist } from './worklist.ts'

export interface Ctx {
  store: Store
  prefs: Prefs
  session: Session
  main: HTMLElement
  refresh: () => Promise<void>
}

export interface View {
  render(changed: { patients: boolean; alerts: boolean }): void
  /**
   * The worklist and alerts were loaded again (after a reconnection, or the care team changed): what
   * the view fetched itself may be stale, or no longer the viewer's to see.
   */
  reloaded?(): void
  close(): void
}

export function mountRoute(hash: string, ctx: Ctx): View {
  const path = hash.replace(/^#/, '') || '/'
  const patient = path.match(/^\/patients\/([^/]+)$/)
  if (patient) return mountPatient(ctx, decodeURIComponent(patient[1]))
  if (path.startsWith('/admin/')) {
    if (ctx.session.role !== 'admin') return message(ctx, 'Admin pages are for administrators only.')
    if (path === '/admin/patients') return mountAdminPatients(ctx)
    if (path === '/admin/devices') return mountAdminDevices(ctx)
    if (path === '/admin/users') return mountAdminUsers(ctx)
  }
  if (path !== '/') return message(ctx, 'No such page.')
  return mountHome(ctx)
}

function mountHome(ctx: Ctx): View {
  const wl = h('section', { class: 'worklist', 'aria-labelledby': 'wl-title' })
  const feed = h('section', { class: 'feed', 'aria-labelledby': 'feed-title' })
  clear(ctx.main).append(h('div', { class: 'layout' }, wl, feed))
  let complete = false
  const renderWorklist = createWorklist(
    wl,
    ctx.store,
    () => ctx.prefs,
    () => {
      if (complete) return
      complete = true
      performance.mark('vw:worklist-complete')
    },
  )
  const renderFeed = createAlertFeed(feed, ctx.store, ctx.prefs)
  let first = true
  return {
    render(changed) {
      if (changed.patients || changed.alerts) renderWorklist()
      if (changed.alerts) renderFeed()
      if (first && ctx.store.patients.size) {
        first = false
        // Rows are in the DOM now; the frame after this one has painted them (bench/web.ts reads both).
        performance.mark('vw:worklist-rendered')
        requestAnimationFrame(() => performance.mark('vw:worklist-painted'))
      }
    },
    close() {},
  }
}

function message(ctx: Ctx, text: string): View {
  clear(ctx.main).append(
    h('p', { class: 'card', role: 'alert' }, text, ' ', h('a', { href: '#/' }, 'Back to worklist')),
  )
  return { render() {}, close() {} }
}
