/** Swipe right on a bubble to reply (phones): a mostly horizontal drag of 60 px or more. */

const DISTANCE = 60;
const SLOPE = 0.5; // at most this much vertical movement per horizontal pixel

export class SwipeToReply {
  private start: { x: number; y: number; id: number } | null = null;
  private el: HTMLElement | null = null;

  constructor(private readonly onSwipe: () => void) {}

  down(e: PointerEvent): void {
    // A mouse drag selects text; the menu's Reply serves the desktop.
    if (e.pointerType === 'mouse') return;
    this.start = { x: e.clientX, y: e.clientY, id: e.pointerId };
    this.el = e.currentTarget as HTMLElement;
  }

  move(e: PointerEvent): void {
    if (!this.start || e.pointerId !== this.start.id || !this.el) return;
    const dx = Math.max(0, e.clientX - this.start.x);
    const dy = Math.abs(e.clientY - this.start.y);
    if (dy > dx * SLOPE + 10) {
      this.reset();
      return;
    }
    // CSSOM custom property: allowed by the strict CSP.
    this.el.style.setProperty('--swipe-x', `${Math.min(dx, DISTANCE * 1.5)}px`);
    this.el.classList.toggle('swiping', dx > 8);
  }

  up(e: PointerEvent): void {
    if (!this.start || e.pointerId !== this.start.id) return;
    const dx = e.clientX - this.start.x;
    const dy = Math.abs(e.clientY - this.start.y);
    this.reset();
    if (dx >= DISTANCE && dy <= dx * SLOPE) this.onSwipe();
  }

  reset(): void {
    this.el?.classList.remove('swiping');
    this.el?.style.removeProperty('--swipe-x');
    this.start = null;
    this.el = null;
  }
}
