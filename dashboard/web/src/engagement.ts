// Is the user working in this region right now? The pointer is over it, or the keyboard focus is inside
// it, or a dialog opened from it is open (a modal dialog takes the pointer and the focus out of the region,
// yet the user is still acting on one of its items). A live list does not move while that holds
// (freeze.ts). `onChange` runs when it starts and when it ends.
// Focus counts only when it is keyboard focus (`:focus-visible`): a mouse click leaves the clicked button
// focused, and the list would then stay frozen long after the pointer left it.

export interface Engagement {
  /** Re-reads the focus (a focused element removed from the page sends no focusout), then answers. */
  engaged(): boolean
  /** Holds the region engaged until `p` settles (a dialog opened from it). */
  during<T>(p: Promise<T>): Promise<T>
}

export interface EngagementOptions {
  /**
   * A pointer resting this long without moving no longer counts (it stops engaging until it moves
   * again). For the worklist: a mouse parked over it while the coordinator reads elsewhere must not keep
   * the sickest patients from rising to the top. Unset: a resting pointer engages for as long as it rests.
   */
  pointerIdleMs?: number
}

export function watchEngagement(
  el: HTMLElement,
  onChange: (engaged: boolean) => void,
  options: EngagementOptions = {},
): Engagement {
  let pointer = false
  let focus = false
  let dialogs = 0
  let last = false
  const update = () => {
    const now = pointer || focus || dialogs > 0
    if (now === last) return
    last = now
    onChange(now)
  }
  // One timer per idle period, not one per pointermove: it re-arms itself for the time left.
  const idleMs = options.pointerIdleMs
  let movedAt = 0
  let armed = false
  const checkIdle = () => {
    const left = (idleMs as number) - (performance.now() - movedAt)
    armed = left > 0
    if (armed) setTimeout(checkIdle, left)
    else if (pointer) {
      pointer = false
      update()
    }
  }
  const moved = () => {
    if (idleMs === undefined) return
    movedAt = performance.now()
    if (armed) return
    armed = true
    setTimeout(checkIdle, idleMs)
  }
  // Pointer events cover mouse, pen and touch (a touch is "over" the region from down to up).
  el.addEventListener('pointerenter', () => {
    pointer = true
    moved()
    update()
  })
  el.addEventListener('pointerleave', () => {
    pointer = false
    update()
  })
  if (idleMs !== undefined)
    el.addEventListener('pointermove', () => {
      moved()
      if (!pointer) {
        pointer = true
        update()
      }
    })
  el.addEventListener('focusin', (ev) => {
    focus = keyboardFocus(ev.target as Element)
    update()
  })
  el.addEventListener('focusout', (ev) => {
    // relatedTarget is where focus goes: inside, its focusin decides. Null: the page or the window lost
    // focus (another application): the user is not working here now.
    if (!el.contains(ev.relatedTarget as Node | null)) focus = false
    update()
  })
  // After a dialog the pointer is where it was left, but no pointerenter says so until it moves: keep the
  // state it had when the dialog opened until the first move tells.
  const pointerMoved = (ev: PointerEvent) => {
    pointer = el.contains(ev.target as Node | null)
    update()
  }
  return {
    engaged() {
      if (focus && !el.contains(document.activeElement)) {
        focus = false
        update()
      }
      return last
    },
    async during(p) {
      const pointerBefore = pointer
      dialogs++
      update()
      try {
        return await p
      } finally {
        dialogs--
        const active = document.activeElement
        focus = !!active && el.contains(active) && keyboardFocus(active)
        pointer = pointerBefore
        document.addEventListener('pointermove', pointerMoved, { once: true })
        update()
      }
    },
  }
}

const keyboardFocus = (target: Element) => target.matches(':focus-visible')
